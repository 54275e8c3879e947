namespace ServingStack.Bench.Options;

/// <summary>How <c>run</c> talks to the server.</summary>
public enum BenchProtocol
{
    Rest,
    Grpc,

    /// <summary>TF Serving's gRPC PredictionService/Predict.</summary>
    TfGrpc,
}
