using Aspire.Hosting.Publishing;

namespace ServingStack.AppHost.Hosting;

/// <summary>
/// A parameter default that configuration overrides (<c>--Parameters:image-tag=1.2.3</c>, <c>Parameters__image-tag</c>).
/// <c>AddParameter(name, "value", publishValueAsDefault: true)</c> fixes the value instead: configuration is never read.
/// The manifest shows it as the parameter's default, as Aspire's own constant default does.
/// </summary>
public sealed class OverridableParameterDefault(string value) : ParameterDefault
{
    public override string GetDefaultValue() => value;

    public override void WriteToManifest(ManifestPublishingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Writer.WriteString("value", value);
    }
}
