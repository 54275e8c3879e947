namespace ServingStack.Bench;

/// <summary>A failure to report to the user as its message alone (no stack trace): the run can't go on.</summary>
public sealed class BenchException : Exception
{
    public BenchException()
    {
    }

    public BenchException(string message)
        : base(message)
    {
    }

    public BenchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
