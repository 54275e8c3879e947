namespace ServingStack.AppHost.Hosting;

/// <summary>
/// One model a service serves: its name, the versions to serve (none: the newest <see cref="LatestVersions"/>), and
/// labels mapping to versions. Rendered as one <c>config { ... }</c> block of TF Serving's model config.
/// </summary>
public sealed record ServedModel(string Name, IReadOnlyList<long> Versions, IReadOnlyDictionary<string, long> Labels, int LatestVersions = 1)
{
    /// <summary>The version a label points to, or null when the model has no such label.</summary>
    public long? VersionOf(string label) => Labels.TryGetValue(label, out var version) ? version : null;
}
