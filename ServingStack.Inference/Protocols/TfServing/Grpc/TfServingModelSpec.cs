using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using Tensorflow.Serving;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>What a TF Serving <see cref="ModelSpec"/> names, resolved the way REST resolves <c>/v1/models/...</c>.</summary>
public static class TfServingModelSpec
{
    /// <summary>
    /// Takes a reference on the version the spec names: its <c>version</c>, its <c>version_label</c>, or the newest
    /// AVAILABLE one. The caller releases it. Client strings are cut in the errors.
    /// </summary>
    public static ModelVersion? Acquire(ModelManager models, ModelSpec? spec, out ServingError? error)
    {
        if (spec is null)
        {
            error = ServingError.InvalidArgument("Missing ModelSpec");
            return null;
        }

        long? version = null;
        string? label = null;
        switch (spec.VersionChoiceCase)
        {
            case ModelSpec.VersionChoiceOneofCase.Version:
                version = spec.Version;
                break;
            case ModelSpec.VersionChoiceOneofCase.VersionLabel:
                label = spec.VersionLabel;
                break;
        }

        return ModelAcquisition.Acquire(models, spec.Name, version, label, out error);
    }

    /// <summary>The model a spec names; INVALID_ARGUMENT without a spec (TF Serving's "Missing ModelSpec"), NOT_FOUND for an unknown name.</summary>
    public static ManagedModel? Find(ModelManager models, ModelSpec? spec, out ServingError? error)
    {
        if (spec is null)
        {
            error = ServingError.InvalidArgument("Missing ModelSpec");
            return null;
        }

        if (!models.TryGetModel(spec.Name, out var model))
        {
            error = JsonInferencePipeline.UnknownModel(models, spec.Name);
            return null;
        }

        error = null;
        return model;
    }

    /// <summary>NOT_FOUND for a label the model's config does not have.</summary>
    public static ServingError? CheckLabel(ManagedModel model, string label)
    {
        if (model.Config.VersionLabels.ContainsKey(label) || model.Labels.ContainsKey(label))
        {
            return null;
        }

        var labels = model.Config.VersionLabels.Count == 0 ? "no labels are configured" : $"labels: {string.Join(", ", model.Config.VersionLabels.Keys)}";
        return ServingError.NotFound($"model '{model.Name}' has no version label '{ClientText.Cut(label)}' ({labels})");
    }

    /// <summary>
    /// ONNX models have one signature, <c>serving_default</c>; an empty name means it. Any other name is TF Serving's
    /// FAILED_PRECONDITION "Serving signature key ... not found".
    /// </summary>
    public static ServingError? CheckSignature(ModelSpec spec) =>
        spec.SignatureName.Length == 0 || spec.SignatureName == TfServingMetadata.DefaultSignature
            ? null
            : new ServingError(ServingErrorCode.FailedPrecondition,
                $"Serving signature key \"{ClientText.Cut(spec.SignatureName)}\" not found; this server's models have one signature, \"{TfServingMetadata.DefaultSignature}\"");
}
