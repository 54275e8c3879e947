using System.Text.RegularExpressions;

namespace ServingStack.Gateway.Splits;

/// <summary>The rules for a split, shared by startup validation, configuration reloads and the admin API.</summary>
public static partial class SplitValidation
{
    /// <summary>
    /// Appends every problem with <paramref name="split"/>; <paramref name="clusters"/> null skips the cluster check;
    /// <paramref name="analysisEnabled"/> false refuses a promotion (nothing would judge the canary).
    /// </summary>
    public static void Validate(string model, ModelSplitOptions split, IReadOnlySet<string>? clusters, List<string> errors, bool analysisEnabled = true)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(errors);
        var prefix = $"Gateway:Splits:{model}";
        if (split.Targets.Count == 0)
        {
            errors.Add($"{prefix}: at least one target is required.");
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < split.Targets.Count; i++)
        {
            var t = split.Targets[i];
            var where = $"{prefix}:Targets:{i}";
            if (string.IsNullOrWhiteSpace(t.Name))
            {
                errors.Add($"{where}: Name is required.");
            }
            else if (!names.Add(t.Name))
            {
                errors.Add($"{where}: target name '{t.Name}' is used twice.");
            }

            if (string.IsNullOrWhiteSpace(t.Cluster))
            {
                errors.Add($"{where}: Cluster is required.");
            }
            else if (clusters is not null && !clusters.Contains(t.Cluster))
            {
                errors.Add($"{where}: cluster '{t.Cluster}' is not in ReverseProxy:Clusters.");
            }

            if (t.GrpcCluster is not null && clusters is not null && !clusters.Contains(t.GrpcCluster))
            {
                errors.Add($"{where}: gRPC cluster '{t.GrpcCluster}' is not in ReverseProxy:Clusters.");
            }

            if (t.Weight < 0)
            {
                errors.Add($"{where}: Weight must be >= 0, not {t.Weight}.");
            }

            if (t.Version is <= 0)
            {
                errors.Add($"{where}: Version must be a positive integer, not {t.Version}.");
            }

            if (t.Label is not null)
            {
                if (!LabelPattern().IsMatch(t.Label))
                {
                    errors.Add($"{where}: Label '{t.Label}' must match [a-zA-Z0-9_]+.");
                }

                if (t.Version is null)
                {
                    errors.Add($"{where}: a Label target needs a Version too, because Open Inference (v2) has no labels.");
                }
            }
        }

        if (split.Targets.All(t => t.Weight <= 0))
        {
            errors.Add($"{prefix}: at least one target needs a positive Weight.");
        }

        if (split.Stable is not null && !names.Contains(split.Stable))
        {
            errors.Add($"{prefix}: Stable '{split.Stable}' is not one of the targets.");
        }

        if (split.Promotion is { } promotion)
        {
            ValidatePromotion(prefix, split, promotion, analysisEnabled, errors);
        }
    }

    private static void ValidatePromotion(string prefix, ModelSplitOptions split, PromotionOptions promotion, bool analysisEnabled, List<string> errors)
    {
        var where = $"{prefix}:Promotion";
        if (!analysisEnabled)
        {
            errors.Add($"{where} needs canary analysis, but Gateway:CanaryAnalysis:Enabled is false.");
        }

        var steps = promotion.Steps;
        if (steps.Count == 0)
        {
            errors.Add($"{where}:Steps must list the canary's weights in percent, increasing and ending with 100 (e.g. 10, 25, 50, 100).");
        }

        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is < 1 or > 100)
            {
                errors.Add($"{where}:Steps:{i} must be within [1, 100], not {steps[i]}.");
            }
            else if (i > 0 && steps[i] <= steps[i - 1])
            {
                errors.Add($"{where}:Steps:{i} ({steps[i]}) must be greater than the step before it ({steps[i - 1]}).");
            }
        }

        if (steps.Count > 0 && steps[^1] != 100)
        {
            errors.Add($"{where}:Steps must end with 100 (the canary takes all traffic), not {steps[^1]}.");
        }

        if (promotion.HealthyWindows < 1)
        {
            errors.Add($"{where}:HealthyWindows must be >= 1, not {promotion.HealthyWindows}.");
        }

        if (split.Targets.Count != 2)
        {
            errors.Add($"{where} needs exactly two targets, the stable one and one canary, not {split.Targets.Count}.");
            return;
        }

        var stable = split.Stable ?? split.Targets[0].Name;
        if (split.Targets.FirstOrDefault(t => t.Name != stable) is { Weight: <= 0 } canary)
        {
            errors.Add($"{where}: the canary '{canary.Name}' needs a positive starting Weight (e.g. the first step), not {canary.Weight}.");
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9_]+$")]
    private static partial Regex LabelPattern();
}
