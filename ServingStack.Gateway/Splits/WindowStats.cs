namespace ServingStack.Gateway.Splits;

/// <summary>A closed window of one target.</summary>
public readonly record struct WindowStats(int Requests, int Errors, double P99)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;
}
