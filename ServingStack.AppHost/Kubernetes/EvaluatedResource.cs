namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// A project resource's arguments and environment as the graph gives them in publish mode (what aspire-manifest.json
/// shows), with the manifest's expressions bound to in-cluster values.
/// </summary>
public sealed record EvaluatedResource(IReadOnlyList<string> Args, IReadOnlyList<KeyValuePair<string, string>> Environment);
