namespace ServingStack.Tests.ModelSync;

/// <summary>
/// Test classes that build the sidecar in this process run one at a time. Each app's OpenTelemetry meter provider
/// listens to every meter named <c>ServingStack.ModelSync</c> in the process, so a second app's instruments would
/// merge into (and, when that app is disposed, take down) the first one's series at <c>/metrics</c>.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessSidecars
{
    public const string Name = "ModelSync apps in process";
}
