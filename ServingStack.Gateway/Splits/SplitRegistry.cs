using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Splits;

/// <summary>
/// The live splits: immutable snapshots swapped atomically, fed by configuration (startup and reloads), the admin API and
/// canary analysis (rollbacks and promotion steps). A reload applies only the models whose configured split changed, so a
/// reload of unrelated settings does not undo an admin change, a rollback or a promotion step.
/// </summary>
public sealed partial class SplitRegistry : IDisposable
{
    /// <summary>Unknown targets listed by name in an error; the rest are only counted.</summary>
    private const int MaxListedUnknownTargets = 5;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly IConfiguration _configuration;
    private readonly ILogger<SplitRegistry> _logger;
    private readonly IDisposable? _subscription;
    private readonly bool _analysisEnabled;
    private ImmutableDictionary<string, ModelSplit> _splits = ImmutableDictionary<string, ModelSplit>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableDictionary<string, string> _applied = ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    public SplitRegistry(IOptionsMonitor<SplitsOptions> splits, IOptions<GatewayOptions> gateway, IConfiguration configuration, TimeProvider time, ILogger<SplitRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(gateway);
        _time = time;
        _configuration = configuration;
        _logger = logger;
        // Startup values were validated with GatewayOptions (ValidateOnStart).
        _analysisEnabled = gateway.Value.CanaryAnalysis.Enabled;
        Apply(splits.CurrentValue);
        _subscription = splits.OnChange(Apply);
    }

    public event Action<ModelSplit>? Changed;

    public IReadOnlyDictionary<string, ModelSplit> All => Volatile.Read(ref _splits);

    public ModelSplit? Get(string model) => Volatile.Read(ref _splits).GetValueOrDefault(model);

    /// <summary>
    /// Sets weights by target name; returns the errors, none when applied. A target that had weight and is set to 0 is
    /// rolled back (<see cref="SplitTarget.RolledBackAt"/>): overrides reach it only with the admin's credential.
    /// </summary>
    public IReadOnlyList<string> SetWeights(string model, IReadOnlyDictionary<string, int> weights, string source)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var errors = new List<string>();
        ModelSplit? updated = null;
        var paused = false;
        lock (_gate)
        {
            if (!_splits.TryGetValue(model, out var current))
            {
                errors.Add($"model '{ClientText.Cut(model)}' has no split.");
                return errors;
            }

            var unknown = 0;
            foreach (var (name, weight) in weights)
            {
                if (current.Find(name) is null && ++unknown <= MaxListedUnknownTargets)
                {
                    errors.Add($"target '{ClientText.Cut(name)}' is not in the split of '{model}' (targets: {string.Join(", ", current.Targets.Select(t => t.Name))}).");
                }

                if (weight < 0)
                {
                    errors.Add($"weight of '{ClientText.Cut(name)}' must be >= 0, not {weight}.");
                }
            }

            if (unknown > MaxListedUnknownTargets)
            {
                errors.Add($"{unknown - MaxListedUnknownTargets} more targets are not in the split of '{model}'.");
            }

            if (weights.Count == 0)
            {
                errors.Add("at least one weight is required.");
            }

            if (errors.Count > 0)
            {
                return errors;
            }

            var now = _time.GetUtcNow();
            var targets = current.Targets.Select(t => !weights.TryGetValue(t.Name, out var w) ? t
                : w > 0 ? t with { Weight = w, RollbackReason = null, RolledBackAt = null }
                : t.Weight > 0 ? t with { Weight = 0, RollbackReason = $"weight set to 0 by {source}", RolledBackAt = now }
                : t).ToImmutableArray();
            if (targets.All(t => t.Weight <= 0))
            {
                errors.Add("at least one target needs a positive weight.");
                return errors;
            }

            // A manual change overrides the promotion: it pauses until resumed (or the split is reconfigured).
            paused = current.Promotion is { Status: PromotionStatus.Progressing };
            var promotion = paused
                ? current.Promotion! with { Status = PromotionStatus.Paused, Reason = $"weights set by {source}", ChangedAt = now }
                : current.Promotion;
            updated = current with { Targets = targets, Source = source, ChangedAt = now, Promotion = promotion };
            _splits = _splits.SetItem(model, updated);
        }

        LogWeightsChanged(model, source, Describe(updated));
        if (paused)
        {
            LogPromotionPaused(model, source);
        }

        Changed?.Invoke(updated);
        return errors;
    }

    /// <summary>
    /// Moves the promoted canary of <paramref name="observed"/> to its next step (stable gets the rest of 100); null when
    /// the split changed since it was observed, or its promotion is not progressing.
    /// </summary>
    public PromotionAdvance? Promote(ModelSplit observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ModelSplit updated;
        PromotionAdvance advance;
        lock (_gate)
        {
            if (!_splits.TryGetValue(observed.Model, out var current) || !ReferenceEquals(current, observed)
                || current.Promotion is not { Status: PromotionStatus.Progressing } promotion
                || current.Find(promotion.Canary) is not { Weight: > 0 } canary)
            {
                return null;
            }

            var from = current.PercentOf(canary);
            var to = promotion.NextStep(from) ?? 100;
            var now = _time.GetUtcNow();
            var targets = current.Targets.Select(t => t.Name == canary.Name ? t with { Weight = to } : t with { Weight = 100 - to }).ToImmutableArray();
            var status = to >= 100 ? PromotionStatus.Completed : PromotionStatus.Progressing;
            updated = current with
            {
                Targets = targets,
                Source = "promotion",
                ChangedAt = now,
                Promotion = promotion with { Status = status, Reason = null, ChangedAt = now },
            };
            _splits = _splits.SetItem(current.Model, updated);
            advance = new PromotionAdvance(current.Model, canary.Name, (int)Math.Round(from), to);
        }

        LogWeightsChanged(updated.Model, updated.Source, Describe(updated));
        Changed?.Invoke(updated);
        return advance;
    }

    /// <summary>Resumes a paused or stopped promotion from the canary's current weight; returns why not, null when resumed.</summary>
    public string? ResumePromotion(string model)
    {
        ModelSplit updated;
        lock (_gate)
        {
            if (!_splits.TryGetValue(model, out var current))
            {
                return $"model '{ClientText.Cut(model)}' has no split.";
            }

            switch (current.Promotion)
            {
                case null:
                    return $"the split of '{model}' has no promotion configured (Gateway:Splits:{model}:Promotion).";
                case { Status: PromotionStatus.Completed }:
                    return $"the promotion of '{model}' is complete.";
                case { Status: PromotionStatus.Progressing }:
                    return null;
                case { } promotion when current.Find(promotion.Canary) is not { Weight: > 0 }:
                    return $"canary '{promotion.Canary}' has weight 0; give it a weight (PUT /admin/splits/{model}) before resuming.";
                case { } promotion:
                    updated = current with { Promotion = promotion with { Status = PromotionStatus.Progressing, Reason = null, ChangedAt = _time.GetUtcNow() } };
                    _splits = _splits.SetItem(model, updated);
                    break;
            }
        }

        LogPromotionResumed(model, Describe(updated));
        Changed?.Invoke(updated);
        return null;
    }

    /// <summary>Takes a canary's weight to 0 and records why; false when it had none already.</summary>
    public bool RollBack(string model, string target, string reason)
    {
        ModelSplit? updated;
        lock (_gate)
        {
            if (!_splits.TryGetValue(model, out var current) || current.Find(target) is not { Weight: > 0 } found)
            {
                return false;
            }

            var now = _time.GetUtcNow();
            var targets = current.Targets.Select(t => t == found ? t with { Weight = 0, RollbackReason = reason, RolledBackAt = now } : t).ToImmutableArray();
            if (targets.All(t => t.Weight <= 0))
            {
                return false;
            }

            // A rollback ends the promotion of that canary.
            var promotion = current.Promotion is { Status: PromotionStatus.Progressing or PromotionStatus.Paused } p && p.Canary == target
                ? p with { Status = PromotionStatus.Stopped, Reason = reason, ChangedAt = now }
                : current.Promotion;
            updated = current with { Targets = targets, Source = "canary-analysis", ChangedAt = now, Promotion = promotion };
            _splits = _splits.SetItem(model, updated);
        }

        Changed?.Invoke(updated);
        return true;
    }

    public void Dispose() => _subscription?.Dispose();

    private void Apply(SplitsOptions options)
    {
        var clusters = GatewayOptionsValidator.KnownClusters(_configuration);
        var changed = new List<ModelSplit>();
        lock (_gate)
        {
            var splits = _splits;
            var applied = _applied;
            foreach (var (model, split) in options)
            {
                var fingerprint = Fingerprint(split);
                if (applied.TryGetValue(model, out var previous) && previous == fingerprint)
                {
                    continue;
                }

                var errors = new List<string>();
                SplitValidation.Validate(model, split, clusters, errors, _analysisEnabled);
                if (errors.Count > 0)
                {
                    LogReloadRejected(model, string.Join(" ", errors));
                    continue;
                }

                var snapshot = ModelSplit.From(model, split, "configuration", _time.GetUtcNow());
                splits = splits.SetItem(model, snapshot);
                applied = applied.SetItem(model, fingerprint);
                changed.Add(snapshot);
            }

            foreach (var model in applied.Keys.Where(m => !options.ContainsKey(m)).ToList())
            {
                splits = splits.Remove(model);
                applied = applied.Remove(model);
                LogSplitRemoved(model);
            }

            _splits = splits;
            _applied = applied;
        }

        foreach (var snapshot in changed)
        {
            LogWeightsChanged(snapshot.Model, snapshot.Source, Describe(snapshot));
            Changed?.Invoke(snapshot);
        }
    }

    private static string Fingerprint(ModelSplitOptions split) =>
        string.Join(";", split.Targets.Select(t => $"{t.Name}|{t.Cluster}|{t.GrpcCluster}|{t.Version}|{t.Label}|{t.Weight}"))
        + $"#{split.Stable}#{split.StickyHeader}"
        + (split.Promotion is { } p ? $"#{string.Join(",", p.Steps)}|{p.HealthyWindows}" : "");

    private static string Describe(ModelSplit split) => string.Join(", ", split.Targets.Select(t => $"{t.Name}={t.Weight}"));

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Split of model {Model} set by {Source}: {Weights}")]
    private partial void LogWeightsChanged(string model, string source, string weights);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Reloaded split of model {Model} is invalid and was not applied: {Errors}")]
    private partial void LogReloadRejected(string model, string errors);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Split of model {Model} removed from configuration")]
    private partial void LogSplitRemoved(string model);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Promotion of model {Model} paused: weights set by {Source}")]
    private partial void LogPromotionPaused(string model, string source);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Promotion of model {Model} resumed at {Weights}")]
    private partial void LogPromotionResumed(string model, string weights);
}
