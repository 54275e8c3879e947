namespace ServingStack.Gateway.Routing;

public enum InferenceProtocol
{
    /// <summary>TF Serving REST, <c>/v1/models/...</c>.</summary>
    TfServingRest,

    /// <summary>Open Inference REST, <c>/v2/models/...</c>.</summary>
    OpenInferenceRest,

    /// <summary>Open Inference gRPC, <c>/inference.GRPCInferenceService/*</c>.</summary>
    OpenInferenceGrpc,

    /// <summary>TF Serving gRPC, <c>/tensorflow.serving.PredictionService/*</c> and <c>/tensorflow.serving.ModelService/*</c>.</summary>
    TfServingGrpc,
}
