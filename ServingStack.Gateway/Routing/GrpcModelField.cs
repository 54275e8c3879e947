namespace ServingStack.Gateway.Routing;

/// <summary>Where a gRPC method's first message names the model (field numbers from the published protos).</summary>
public enum GrpcModelField
{
    /// <summary>No model to split by (ServerLive, HandleReloadConfigRequest, an unknown method...).</summary>
    None,

    /// <summary>Open Inference: <c>model_name</c>/<c>name</c> = 1, <c>model_version</c>/<c>version</c> = 2 (strings).</summary>
    OpenInference,

    /// <summary>TF Serving: <c>model_spec</c> = 1, a ModelSpec (name 1, version 2, signature_name 3, version_label 4).</summary>
    TfServingModelSpec,

    /// <summary>TF Serving MultiInferenceRequest: <c>tasks</c> = 1, each an InferenceTask whose <c>model_spec</c> = 1.</summary>
    TfServingTasks,
}
