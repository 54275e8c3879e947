namespace ServingStack.Gateway.Splits;

/// <summary>
/// The <c>Gateway:Splits</c> section (model name → split), read through <c>IOptionsMonitor</c> so a reload changes the
/// weights. Not validated by the options system: a bad reload is logged and the previous split kept (a throwing validator
/// would surface in the configuration's change callback instead).
/// </summary>
public sealed class SplitsOptions : Dictionary<string, ModelSplitOptions>
{
    public const string SectionName = "Gateway:Splits";

    public SplitsOptions()
        : base(StringComparer.Ordinal)
    {
    }
}
