using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Baselines;

/// <summary>
/// The transport floor: ModelInfer answers one response built at start (zeros, shaped like the model's outputs at one
/// row) without looking at the request or running anything. What is left is Kestrel, HTTP/2 and gRPC's framing.
/// </summary>
public sealed class EchoInferenceService(ModelMetadataResponse metadata) : GRPCInferenceService.GRPCInferenceServiceBase
{
    private readonly ModelInferResponse _response = FixedResponse(metadata);

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(metadata);

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) =>
        Task.FromResult(_response);

    private static ModelInferResponse FixedResponse(ModelMetadataResponse metadata)
    {
        var response = new ModelInferResponse { ModelName = metadata.Name, ModelVersion = "1" };
        foreach (var output in metadata.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.Datatype };
            long elements = 1;
            foreach (var dim in output.Shape)
            {
                var size = dim < 0 ? 1 : dim;
                tensor.Shape.Add(size);
                elements *= size;
            }

            response.Outputs.Add(tensor);
            response.RawOutputContents.Add(ByteString.CopyFrom(new byte[elements * Inputs.Datatypes.SizeOf(output.Datatype)]));
        }

        return response;
    }
}
