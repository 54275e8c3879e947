namespace ServingStack.Inference.Metrics;

/// <summary>
/// The <c>API</c> and <c>entrypoint</c> labels of <c>:tensorflow:serving:request_latency</c> for the <c>protocol</c> label
/// our request metrics carry. TF Serving's own values: gRPC requests carry the RPC's name (<c>Predict</c>) and
/// <c>GRPC</c>; REST requests carry the URL's verb (<c>predict</c>) and <c>REST</c>. Open Inference requests, which
/// TF Serving does not have, are named the same way (<c>ModelInfer</c>/<c>GRPC</c>, <c>infer</c>/<c>REST</c>), so
/// dashboards built for TF Serving count all of the server's traffic and can still tell it apart.
/// </summary>
public static class TfServingApiNames
{
    public const string Rest = "REST";
    public const string Grpc = "GRPC";

    public static (string Api, string Entrypoint) ForProtocol(string protocol) => protocol switch
    {
        "tfserving_rest" => ("predict", Rest),
        Protocols.TfServing.Grpc.TfServingPredictionService.Protocol => ("Predict", Grpc),
        "v2_rest" => ("infer", Rest),
        "grpc" => ("ModelInfer", Grpc),
        // A protocol added later keeps its own name until it is listed here.
        _ => (protocol, protocol.Contains("grpc", StringComparison.OrdinalIgnoreCase) ? Grpc : Rest),
    };
}
