using System.Globalization;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// The one place a request takes a reference on a model version, whatever its protocol (TF Serving REST and gRPC,
/// Open Inference REST and gRPC), so every protocol answers an unknown model, version or label with the same error.
/// The caller releases the version it gets (<see cref="ModelVersion.Release"/>).
/// </summary>
public static class ModelAcquisition
{
    /// <summary>Takes a reference on the version <paramref name="target"/> names: by number, by label, or the newest AVAILABLE.</summary>
    public static ModelVersion? Acquire(ModelManager models, ModelTarget target, out ServingError? error) =>
        Acquire(models, target.Model, target.Version, target.Label, out error);

    /// <summary>As <see cref="Acquire(ModelManager, ModelTarget, out ServingError?)"/>; NOT_FOUND (listing the served models) for an unknown name.</summary>
    public static ModelVersion? Acquire(ModelManager models, string model, long? version, string? label, out ServingError? error)
    {
        if (!models.TryGetModel(model, out var managed))
        {
            error = UnknownModel(models, model);
            return null;
        }

        return managed.Acquire(version, label, out error);
    }

    /// <summary>
    /// For protocols that carry the version as text (Open Inference gRPC): empty means the newest AVAILABLE; anything
    /// else must be a positive integer, or INVALID_ARGUMENT naming <paramref name="field"/>.
    /// </summary>
    public static ModelVersion? Acquire(ModelManager models, string model, string version, string field, out ServingError? error)
    {
        long? number = null;
        if (version.Length > 0)
        {
            if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed <= 0)
            {
                error = ServingError.InvalidArgument($"{field} '{ClientText.Cut(version)}' is not a positive integer (leave it empty for the newest version)");
                return null;
            }

            number = parsed;
        }

        return Acquire(models, model, number, null, out error);
    }

    /// <summary>NOT_FOUND for a model this server does not serve, listing the ones it does (the client's name is cut).</summary>
    public static ServingError UnknownModel(ModelManager models, string name)
    {
        var names = new string[models.Models.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = models.Models[i].Name;
        }

        return ServingError.NotFound($"model '{ClientText.Cut(name)}' is not served here (models: {string.Join(", ", names)})");
    }
}
