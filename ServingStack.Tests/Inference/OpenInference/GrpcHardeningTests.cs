using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing.Grpc;
using Tensorflow;
using Tensorflow.Serving;
using InputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;

namespace ServingStack.Tests.Inference.OpenInference;

/// <summary>
/// Hostile and unlucky gRPC traffic against both inference services (Open Inference and TF Serving): bytes that are
/// not protobuf, megabyte-long names, shapes that claim gigabytes, and a burst of calls with deadlines of a few
/// milliseconds. Each ends with the right status for the call at fault only, clear messages and quiet logs.
/// </summary>
public sealed class GrpcHardeningTests : IDisposable
{
    // Unique: the metrics recorder tells servers apart by model name, and test classes run in parallel.
    private readonly string _model = "mnist_" + Guid.NewGuid().ToString("N")[..8];

    private static readonly Method<byte[], byte[]> s_rawModelInfer = Raw("inference.GRPCInferenceService", "ModelInfer");
    private static readonly Method<byte[], byte[]> s_rawPredict = Raw("tensorflow.serving.PredictionService", "Predict");
    private static readonly Method<byte[], byte[]> s_rawStatus = Raw("tensorflow.serving.ModelService", "GetModelStatus");

    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Bytes_that_are_not_a_request_message_are_INVALID_ARGUMENT_naming_the_request_and_log_no_error()
    {
        await using var server = await StartAsync(batching: null);
        var invoker = server.GrpcChannel.CreateCallInvoker();
        var garbage = Encoding.ASCII.GetBytes("this is not protobuf");

        foreach (var (method, type) in new[] { (s_rawModelInfer, "ModelInferRequest"), (s_rawPredict, "PredictRequest"), (s_rawStatus, "GetModelStatusRequest") })
        {
            await RpcAssert.FailsAsync(invoker.AsyncUnaryCall(method, null, new CallOptions(), garbage), StatusCode.InvalidArgument,
                "not a valid", method.FullName, type);
        }

        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_megabyte_long_name_is_NOT_FOUND_with_the_name_cut_short_in_every_answer()
    {
        await using var server = await StartAsync(batching: null);
        var oi = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);
        var tf = new PredictionService.PredictionServiceClient(server.GrpcChannel);
        var status = new ModelService.ModelServiceClient(server.GrpcChannel);
        var name = new string('m', 1 << 20);
        var fragment = $"({1 << 20} characters)";

        var infer = OiRequest(1);
        infer.ModelName = name;
        var errors = new List<RpcException>
        {
            await RpcAssert.FailsAsync(oi.ModelInferAsync(infer), StatusCode.NotFound, fragment, _model),
            await RpcAssert.FailsAsync(oi.ModelReadyAsync(new ModelReadyRequest { Name = name }), StatusCode.NotFound, fragment),
            await RpcAssert.FailsAsync(oi.ModelMetadataAsync(new ModelMetadataRequest { Name = name }), StatusCode.NotFound, fragment),
            await RpcAssert.FailsAsync(tf.PredictAsync(TfRequest(new ModelSpec { Name = name }, 1)), StatusCode.NotFound, fragment, _model),
            await RpcAssert.FailsAsync(tf.GetModelMetadataAsync(new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = name }, MetadataField = { "signature_def" } }),
                StatusCode.NotFound, fragment),
            await RpcAssert.FailsAsync(status.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = name } }), StatusCode.NotFound, fragment),
            await RpcAssert.FailsAsync(tf.PredictAsync(TfRequest(new ModelSpec { Name = _model, VersionLabel = name }, 1)), StatusCode.NotFound, fragment),
        };

        // The other client strings errors repeat: input names, output names, datatypes, versions, signatures.
        var longInput = OiRequest(1);
        longInput.Inputs[0].Name = name;
        errors.Add(await RpcAssert.FailsAsync(oi.ModelInferAsync(longInput), StatusCode.InvalidArgument, fragment));
        var longDatatype = OiRequest(1);
        longDatatype.Inputs[0].Datatype = name;
        errors.Add(await RpcAssert.FailsAsync(oi.ModelInferAsync(longDatatype), StatusCode.InvalidArgument, fragment));
        var longOutput = OiRequest(1);
        longOutput.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = name });
        errors.Add(await RpcAssert.FailsAsync(oi.ModelInferAsync(longOutput), StatusCode.InvalidArgument, fragment));
        var longVersion = OiRequest(1);
        longVersion.ModelVersion = name;
        errors.Add(await RpcAssert.FailsAsync(oi.ModelInferAsync(longVersion), StatusCode.InvalidArgument, fragment));
        var tfInput = new PredictRequest { ModelSpec = new ModelSpec { Name = _model } };
        tfInput.Inputs.Add(name, TfTensors.Floats([1], 1, MlpWeights.InputSize));
        errors.Add(await RpcAssert.FailsAsync(tf.PredictAsync(tfInput), StatusCode.InvalidArgument, fragment));
        var tfOutput = TfRequest(new ModelSpec { Name = _model }, 1);
        tfOutput.OutputFilter.Add(name);
        errors.Add(await RpcAssert.FailsAsync(tf.PredictAsync(tfOutput), StatusCode.InvalidArgument, fragment));
        errors.Add(await RpcAssert.FailsAsync(tf.PredictAsync(TfRequest(new ModelSpec { Name = _model, SignatureName = name }, 1)), StatusCode.FailedPrecondition, fragment));

        Assert.All(errors, e => Assert.True(e.Status.Detail.Length < 1024, $"{e.Status.Detail.Length} characters: {e.Status.Detail[..300]}"));
    }

    [Fact]
    public async Task A_shape_of_a_quarter_billion_elements_with_a_few_bytes_is_INVALID_ARGUMENT_without_allocating_it()
    {
        await using var server = await StartAsync(batching: null);
        var oi = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);
        var tf = new PredictionService.PredictionServiceClient(server.GrpcChannel);
        const long Huge = 268_435_455;

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var raw = new ModelInferRequest { ModelName = "f64" };
        raw.Inputs.Add(Input("x", "FP64", 1, Huge));
        raw.RawInputContents.Add(ByteString.CopyFrom(new byte[16]));
        await RpcAssert.FailsAsync(oi.ModelInferAsync(raw), StatusCode.InvalidArgument, "16 bytes", "2147483640 bytes");

        var typed = new ModelInferRequest { ModelName = "f64" };
        typed.Inputs.Add(Input("x", "FP64", 1, Huge));
        typed.Inputs[0].Contents = new InferTensorContents { Fp64Contents = { 1.0 } };
        await RpcAssert.FailsAsync(oi.ModelInferAsync(typed), StatusCode.InvalidArgument, "268435455 FP64 values", "has 1");

        var content = new PredictRequest { ModelSpec = new ModelSpec { Name = "f64" } };
        content.Inputs.Add("x", TfTensors.Content(DataType.DtDouble, new double[2], 1, Huge));
        await RpcAssert.FailsAsync(tf.PredictAsync(content), StatusCode.InvalidArgument, "16 bytes", "2147483640 bytes");

        // TensorFlow's rule that one value fills the shape: never beyond what a request could carry.
        var broadcast = new PredictRequest { ModelSpec = new ModelSpec { Name = "f64" } };
        broadcast.Inputs.Add("x", new TensorProto { Dtype = DataType.DtDouble, TensorShape = TfTensors.Shape(1, Huge), DoubleVal = { 1.0 } });
        await RpcAssert.FailsAsync(tf.PredictAsync(broadcast), StatusCode.InvalidArgument, "one double_val value would fill shape", "more than a request may carry");

        // Any of these allocated would be 2 GiB; the whole sequence stays far below one.
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocated < 1L << 30, "the server allocated the declared shape");
    }

    [Theory]
    [InlineData("open-inference")]
    [InlineData("tf-serving")]
    public async Task A_burst_of_calls_with_5_ms_deadlines_fails_only_the_expired_calls_and_no_connection(string protocol)
    {
        // Batching with a short wait: calls queue, and most outlive their deadline there or on the way.
        await using var server = await StartAsync("""{ "max_batch_size": 32, "batch_timeout_micros": 1000, "max_enqueued_batches": 1000 }""");
        using var metrics = new MetricsRecorder(_model);
        var oi = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);
        var tf = new PredictionService.PredictionServiceClient(server.GrpcChannel);
        var oiRequest = OiRequest(1);
        var tfRequest = TfRequest(new ModelSpec { Name = _model }, 1);
        var statuses = new ConcurrentDictionary<string, int>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), new ParallelOptions { MaxDegreeOfParallelism = 200 }, async (_, cancellationToken) =>
        {
            string status;
            try
            {
                var deadline = DateTime.UtcNow.AddMilliseconds(5);
                if (protocol == "open-inference")
                {
                    await oi.ModelInferAsync(oiRequest, deadline: deadline, cancellationToken: cancellationToken);
                }
                else
                {
                    await tf.PredictAsync(tfRequest, deadline: deadline, cancellationToken: cancellationToken);
                }

                status = nameof(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                status = ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.ResourceExhausted
                    ? ex.StatusCode.ToString()
                    : $"{ex.StatusCode}: {ex.Status.Detail}";
            }

            statuses.AddOrUpdate(status, 1, (_, count) => count + 1);
        });

        // Only the expired calls failed: no UNAVAILABLE from an aborted connection, no INTERNAL or UNKNOWN.
        var expected = new[] { "OK", "DeadlineExceeded", "Cancelled", "ResourceExhausted" };
        Assert.True(statuses.Keys.All(expected.Contains), string.Join("; ", statuses.Select(s => $"{s.Value} × {s.Key}")));
        Assert.Equal(5000, statuses.Values.Sum());

        // Kestrel never aborted a connection (it logs that as Critical) and no cancellation was an error.
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal));

        // The server counted each call it handled under a status the client could have seen.
        var counted = metrics.Measurements.Where(m => m.Instrument == "servingstack.requests").Select(m => m.Tags["status"]).Distinct().ToArray();
        Assert.True(counted.All(new[] { "OK", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED" }.Contains), string.Join(", ", counted));
    }

    [Theory]
    [InlineData("open-inference")]
    [InlineData("tf-serving")]
    public async Task A_call_whose_deadline_passes_in_the_queue_is_counted_DEADLINE_EXCEEDED_and_logged_at_Debug(string protocol)
    {
        // The batch waits a minute for company: a lone request can only leave by its deadline.
        await using var server = await StartAsync("""{ "max_batch_size": 32, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");
        var oi = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);
        var tf = new PredictionService.PredictionServiceClient(server.GrpcChannel);
        Task Call(int rows, DateTime? deadline) => protocol == "open-inference"
            ? oi.ModelInferAsync(OiRequest(rows), deadline: deadline).ResponseAsync
            : tf.PredictAsync(TfRequest(new ModelSpec { Name = _model }, rows), deadline: deadline).ResponseAsync;

        // A full batch runs at once: it opens the connection and warms both ends, so the timed call arrives in time.
        await Call(32, null);
        using var metrics = new MetricsRecorder(_model);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(1, DateTime.UtcNow.AddSeconds(1)));
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);

        await Eventually.TrueAsync(() => metrics.Count("servingstack.requests", "status", "DEADLINE_EXCEEDED") == 1, "the call to be counted");
        Assert.Equal(0, metrics.Count("servingstack.requests", "status", "OK"));
        Assert.Equal(0, metrics.Count("servingstack.requests", "status", "CANCELLED"));
        Assert.Contains(server.Log.Entries, e => e.Level == LogLevel.Debug && e.EventId.Id is 201 or 221 && e.Message.Contains("DEADLINE_EXCEEDED", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("open-inference")]
    [InlineData("tf-serving")]
    public async Task A_call_its_client_cancels_is_counted_CANCELLED_and_logged_at_Debug(string protocol)
    {
        await using var server = await StartAsync("""{ "max_batch_size": 32, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");
        using var metrics = new MetricsRecorder(_model);
        using var cancel = new CancellationTokenSource();

        var call = protocol == "open-inference"
            ? new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel).ModelInferAsync(OiRequest(1), cancellationToken: cancel.Token).ResponseAsync as Task
            : new PredictionService.PredictionServiceClient(server.GrpcChannel).PredictAsync(TfRequest(new ModelSpec { Name = _model }, 1), cancellationToken: cancel.Token).ResponseAsync;
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions[0].Batcher!.QueuedRows == 1, "the call to be queued");
        await cancel.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);

        await Eventually.TrueAsync(() => metrics.Count("servingstack.requests", "status", "CANCELLED") == 1, "the call to be counted");
        Assert.Contains(server.Log.Entries, e => e.Level == LogLevel.Debug && e.EventId.Id is 201 or 221 && e.Message.Contains("CANCELLED", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
    }

    private async Task<InferenceServer> StartAsync(string? batching)
    {
        _repo.AddMlp(_model, 1, seed: MlpWeights.DefaultSeed);
        _repo.AddVersion("f64", 1, ModelFactory.CreateIdentity(FixtureElementType.Double, 3));
        var batchingBlock = batching is null ? string.Empty : $$""", "batching": {{batching}}""";
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [ { "name": "{{_model}}", "base_path": "{{_model}}"{{batchingBlock}} }, { "name": "f64", "base_path": "f64" } ] }
            """);
        // Debug for the services' own categories: how they log a call whose client gave up.
        return await InferenceServer.StartReadyAsync($"--model_config_file={config}", "--Logging:LogLevel:ServingStack=Debug");
    }

    private static Method<byte[], byte[]> Raw(string service, string method) => new(
        MethodType.Unary, service, method,
        Marshallers.Create(static bytes => bytes, static bytes => bytes),
        Marshallers.Create(static bytes => bytes, static bytes => bytes));

    private static InputTensor Input(string name, string datatype, params long[] shape)
    {
        var input = new InputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        return input;
    }

    private ModelInferRequest OiRequest(int rows)
    {
        var request = new ModelInferRequest { ModelName = _model };
        request.Inputs.Add(Input("x", "FP32", rows, MlpWeights.InputSize));
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(TestData.MnistRows(rows).SelectMany(r => r).ToArray().AsSpan())));
        return request;
    }

    private static PredictRequest TfRequest(ModelSpec spec, int rows)
    {
        var request = new PredictRequest { ModelSpec = spec };
        request.Inputs.Add("x", TfTensors.Content(DataType.DtFloat, TestData.MnistRows(rows).SelectMany(r => r).ToArray(), rows, MlpWeights.InputSize));
        return request;
    }
}
