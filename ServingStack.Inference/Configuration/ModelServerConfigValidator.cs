using Microsoft.Extensions.Options;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Configuration;

/// <summary>Validates every model without stopping at the first problem (the YARP ConfigValidator habit).</summary>
public sealed class ModelServerConfigValidator : IValidateOptions<ModelServerConfig>
{
    private static readonly HashSet<string> s_platforms = new(StringComparer.OrdinalIgnoreCase) { "onnx", "onnxruntime_onnx", "tensorflow" };

    public ValidateOptionsResult Validate(string? name, ModelServerConfig options)
    {
        var errors = new List<string>();
        foreach (var error in options.ReadErrors)
        {
            errors.Add($"{options.Source}: {error}");
        }

        if (options.ReadErrors.Count == 0 && options.Models.Count == 0)
        {
            errors.Add($"{options.Source}: no models are configured.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in options.Models)
        {
            var where = $"model '{model.Name}'";
            if (!ModelConfigValidation.IsValidModelName(model.Name))
            {
                errors.Add($"{where}: the name must match [A-Za-z0-9_.-]+.");
            }

            if (!seen.Add(model.Name))
            {
                errors.Add($"{where}: the name is configured twice.");
            }

            if (!s_platforms.Contains(model.Platform))
            {
                errors.Add($"{where}: platform '{model.Platform}' is not served; use 'onnx'.");
            }

            var policy = model.VersionPolicy;
            if (policy.Kind == ModelVersionPolicyKind.Latest && policy.NumVersions < 1)
            {
                errors.Add($"{where}: model_version_policy latest.num_versions must be >= 1, not {policy.NumVersions}.");
            }

            if (policy.Kind == ModelVersionPolicyKind.Specific)
            {
                if (policy.Versions.Count == 0)
                {
                    errors.Add($"{where}: model_version_policy specific needs at least one version.");
                }

                foreach (var v in policy.Versions)
                {
                    if (v <= 0)
                    {
                        errors.Add($"{where}: version {v} in model_version_policy specific must be a positive integer.");
                    }
                }
            }

            foreach (var (label, version) in model.VersionLabels)
            {
                if (!ModelConfigValidation.IsValidLabel(label))
                {
                    errors.Add($"{where}: label '{label}' must match [a-zA-Z0-9_]+.");
                }

                if (version <= 0)
                {
                    errors.Add($"{where}: label '{label}' points at version {version}; versions are positive integers.");
                }
                else if (policy.Kind == ModelVersionPolicyKind.Specific && !policy.Versions.Contains(version))
                {
                    errors.Add($"{where}: label '{label}' points at version {version}, which model_version_policy does not serve.");
                }
            }

            ModelConfigValidation.ValidateExecution($"{where} execution", model.Execution, errors);
            if (model.Batching.Enabled)
            {
                BatchingOptionsReader.Validate($"{where} batching", model.Batching, errors);
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
