using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>A configured model and its versions. Readers see an immutable snapshot; the manager swaps it under a lock.</summary>
public sealed class ManagedModel(ModelConfig config)
{
    private ModelVersion[] _versions = [];
    private volatile ModelConfig _config = config;
    private volatile IReadOnlyDictionary<string, long> _labels = new Dictionary<string, long>();

    /// <summary>The model's configuration; replaced when the config file changes.</summary>
    public ModelConfig Config
    {
        get => _config;
        internal set => _config = value;
    }

    /// <summary>
    /// Labels as they answer now: a label moves to its configured version only once that version is AVAILABLE, and
    /// until then keeps pointing where it did.
    /// </summary>
    public IReadOnlyDictionary<string, long> Labels => _labels;

    /// <summary>Recomputes <see cref="Labels"/>; called under the gate after versions change state.</summary>
    internal void UpdateLabels()
    {
        var current = _labels;
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (label, target) in Config.VersionLabels)
        {
            if (Find(target)?.State == ModelVersionState.Available)
            {
                next[label] = target;
            }
            else if (current.TryGetValue(label, out var previous) && Find(previous)?.State == ModelVersionState.Available)
            {
                next[label] = previous;
            }
        }

        _labels = next;
    }

    public string Name => Config.Name;

    internal object Gate { get; } = new();

    /// <summary>Set while the base path has no versions, so the warning is logged once, not every poll.</summary>
    internal bool ReportedEmpty { get; set; }

    /// <summary>Version folders seen but not yet settled (their files may still be changing), with what they looked like.</summary>
    internal Dictionary<long, string> PendingStamps { get; } = [];

    /// <summary>Set by the repository API's load: the next scan loads what it finds without waiting for files to settle.</summary>
    internal bool TrustFilesOnce { get; set; }

    /// <summary>Unloaded through the repository API: serves nothing until loaded again.</summary>
    public bool Unloaded { get; internal set; }

    /// <summary>Every known version, ascending, including ended ones (TF Serving's status lists those too).</summary>
    public IReadOnlyList<ModelVersion> Versions => Volatile.Read(ref _versions);

    public bool HasAvailableVersion
    {
        get
        {
            foreach (var v in Versions)
            {
                if (v.State == ModelVersionState.Available)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public ModelVersion? Find(long version)
    {
        foreach (var v in Versions)
        {
            if (v.Version == version)
            {
                return v;
            }
        }

        return null;
    }

    internal void SetVersions(ModelVersion[] versions) => Volatile.Write(ref _versions, versions);

    /// <summary>
    /// Chooses a version by number, label or (neither) the newest available, and takes a reference on it.
    /// The caller must <see cref="ModelVersion.Release"/> it.
    /// </summary>
    public ModelVersion? Acquire(long? version, string? label, out ServingError? error)
    {
        error = null;
        if (label is not null)
        {
            if (!Labels.TryGetValue(label, out var labelled))
            {
                error = Config.VersionLabels.TryGetValue(label, out var configured)
                    ? ServingError.Unavailable($"label '{label}' of model '{Name}' points at version {configured}, which is not AVAILABLE yet")
                    : ServingError.NotFound($"model '{Name}' has no version label '{ClientText.Cut(label)}'{DescribeLabels()}");
                return null;
            }

            version = labelled;
        }

        if (version is { } wanted)
        {
            var found = Find(wanted);
            if (found is null)
            {
                var via = label is null ? string.Empty : $" (label '{label}')";
                error = ServingError.NotFound($"model '{Name}' has no version {wanted}{via}{DescribeVersions()}");
                return null;
            }

            if (found.TryAcquire())
            {
                return found;
            }

            error = found.State is ModelVersionState.Start or ModelVersionState.Loading
                ? ServingError.Unavailable($"version {wanted} of model '{Name}' is {found.State.ToString().ToUpperInvariant()}; retry when it is AVAILABLE")
                : ServingError.NotFound($"version {wanted} of model '{Name}' is not available ({found.State.ToString().ToUpperInvariant()}{(found.Error is null ? string.Empty : ": " + found.Error)})");
            return null;
        }

        var versions = Versions;
        for (var i = versions.Count - 1; i >= 0; i--)
        {
            if (versions[i].TryAcquire())
            {
                return versions[i];
            }
        }

        if (Unloaded)
        {
            error = ServingError.NotFound($"model '{Name}' is unloaded; load it with POST /v2/repository/models/{Name}/load");
            return null;
        }

        error = versions.Count == 0
            ? ServingError.NotFound($"model '{Name}' has no versions under '{Config.BasePath}'")
            : ServingError.Unavailable($"model '{Name}' has no AVAILABLE version yet{DescribeVersions()}");
        return null;
    }

    private string DescribeVersions()
    {
        var versions = Versions;
        if (versions.Count == 0)
        {
            return string.Empty;
        }

        var parts = new string[versions.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = $"{versions[i].Version} {versions[i].State.ToString().ToUpperInvariant()}";
        }

        return $" (versions: {string.Join(", ", parts)})";
    }

    private string DescribeLabels() =>
        Config.VersionLabels.Count == 0 ? " (no labels are configured)" : $" (labels: {string.Join(", ", Config.VersionLabels.Keys)})";
}
