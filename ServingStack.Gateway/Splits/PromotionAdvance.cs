namespace ServingStack.Gateway.Splits;

/// <summary>One promotion step taken: the canary's share before and after, in percent.</summary>
public readonly record struct PromotionAdvance(string Model, string Canary, int From, int To)
{
    public bool Completed => To >= 100;
}
