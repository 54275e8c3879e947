using Google.Protobuf;
using Grpc.Core;
using Microsoft.ML.OnnxRuntime;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Baselines;

/// <summary>
/// What a user could write in an hour: ModelInfer with raw contents → one <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// over OrtValues → raw contents back. No batching, no queue, no metrics, no validation beyond the byte counts.
/// </summary>
public sealed class OrtInferenceService(InferenceSession session, ModelMetadataResponse metadata) : GRPCInferenceService.GRPCInferenceServiceBase, IDisposable
{
    private readonly string[] _outputNames = [.. session.OutputMetadata.Keys];
    private readonly RunOptions _runOptions = new();

    public void Dispose() => _runOptions.Dispose();

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(metadata);

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        if (request.RawInputContents.Count != request.Inputs.Count)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "this baseline takes raw_input_contents only"));
        }

        var names = new string[request.Inputs.Count];
        var values = new OrtValue[request.Inputs.Count];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                var input = request.Inputs[i];
                if (!session.InputMetadata.TryGetValue(input.Name, out var node))
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"no input '{input.Name}'"));
                }

                names[i] = input.Name;
                values[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, node.ElementDataType, [.. input.Shape]);
                var target = values[i].GetTensorMutableRawData();
                var raw = request.RawInputContents[i].Span;
                if (raw.Length != target.Length)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"input '{input.Name}' needs {target.Length} bytes, not {raw.Length}"));
                }

                raw.CopyTo(target);
            }

            using var outputs = session.Run(_runOptions, names, values, _outputNames);
            var response = new ModelInferResponse { ModelName = metadata.Name, ModelVersion = "1" };
            for (var o = 0; o < outputs.Count; o++)
            {
                var info = outputs[o].GetTensorTypeAndShape();
                var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = _outputNames[o], Datatype = OnnxMetadata.Datatype(info.ElementDataType) };
                tensor.Shape.Add(info.Shape);
                response.Outputs.Add(tensor);
                response.RawOutputContents.Add(ByteString.CopyFrom(outputs[o].GetTensorMutableRawData()));
            }

            return Task.FromResult(response);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }
}
