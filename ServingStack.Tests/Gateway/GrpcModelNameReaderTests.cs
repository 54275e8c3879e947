using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using ServingStack.Gateway.Routing;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// The bounded peek at a gRPC call's first message, on bytes encoded by hand from the published field numbers: the
/// model of Open Inference and TF Serving calls, pins, and every kind of malformed length, fuzzed.
/// </summary>
public sealed class GrpcModelNameReaderTests
{
    [Theory]
    [InlineData("/inference.GRPCInferenceService/ModelInfer", GrpcModelField.OpenInference)]
    [InlineData("/inference.GRPCInferenceService/ModelReady", GrpcModelField.OpenInference)]
    [InlineData("/inference.GRPCInferenceService/ModelMetadata", GrpcModelField.OpenInference)]
    [InlineData("/inference.GRPCInferenceService/ModelStreamInfer", GrpcModelField.OpenInference)]
    [InlineData("/inference.GRPCInferenceService/ServerLive", GrpcModelField.None)]
    [InlineData("/inference.GRPCInferenceService/RepositoryModelLoad", GrpcModelField.None)]
    [InlineData("/tensorflow.serving.PredictionService/Predict", GrpcModelField.TfServingModelSpec)]
    [InlineData("/tensorflow.serving.PredictionService/Classify", GrpcModelField.TfServingModelSpec)]
    [InlineData("/tensorflow.serving.PredictionService/Regress", GrpcModelField.TfServingModelSpec)]
    [InlineData("/tensorflow.serving.PredictionService/GetModelMetadata", GrpcModelField.TfServingModelSpec)]
    [InlineData("/tensorflow.serving.PredictionService/MultiInference", GrpcModelField.TfServingTasks)]
    [InlineData("/tensorflow.serving.ModelService/GetModelStatus", GrpcModelField.TfServingModelSpec)]
    [InlineData("/tensorflow.serving.ModelService/HandleReloadConfigRequest", GrpcModelField.None)]
    [InlineData("/tensorflow.serving.PredictionService/Unknown", GrpcModelField.None)]
    [InlineData("/v1/models/m:predict", GrpcModelField.None)]
    [InlineData("/", GrpcModelField.None)]
    public void Each_method_has_its_model_field(string path, GrpcModelField expected) => Assert.Equal(expected, GrpcModelNameReader.FieldOf(path));

    public static TheoryData<byte[], GrpcModelField, string, bool> Messages() => new()
    {
        { [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.Field(5, new byte[100])], GrpcModelField.OpenInference, "mnist", false },
        { [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.Field(2, "")], GrpcModelField.OpenInference, "mnist", false },
        { [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.Field(2, "2")], GrpcModelField.OpenInference, "mnist", true },
        // Out of order, and an unknown varint field first.
        { [.. ProtoBytes.VarintField(9, 300), .. ProtoBytes.Field(2, "1"), .. ProtoBytes.Field(1, "mnist")], GrpcModelField.OpenInference, "mnist", true },
        { ProtoBytes.PredictRequest(ProtoBytes.ModelSpec("mnist"), [1f, 2f]), GrpcModelField.TfServingModelSpec, "mnist", false },
        { ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", signature: "serving_default")), GrpcModelField.TfServingModelSpec, "mnist", false },
        { ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", version: 3)), GrpcModelField.TfServingModelSpec, "mnist", true },
        { ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", version: 0)), GrpcModelField.TfServingModelSpec, "mnist", true },
        { ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", label: "canary")), GrpcModelField.TfServingModelSpec, "mnist", true },
        // version_label before name.
        { ProtoBytes.Field(1, [.. ProtoBytes.Field(4, "stable"), .. ProtoBytes.Field(1, "mnist")]), GrpcModelField.TfServingModelSpec, "mnist", true },
        { [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("mnist", signature: "b")), .. ProtoBytes.Field(2, new byte[50])], GrpcModelField.TfServingTasks, "mnist", false },
        { [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("mnist", label: "canary"))], GrpcModelField.TfServingTasks, "mnist", true },
        { [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("other"))], GrpcModelField.TfServingTasks, "mnist", true },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void The_model_and_its_pin_are_read_from_hand_encoded_messages(byte[] message, GrpcModelField field, string model, bool pinned)
    {
        var peek = GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(ProtoBytes.Frame(message)), field);
        Assert.Equal(GrpcPeekOutcome.Found, peek.Outcome);
        Assert.Equal(model, peek.Model);
        Assert.Equal(pinned, peek.Pinned);
    }

    public static TheoryData<byte[], GrpcModelField> Unsplittable() => new()
    {
        { [], GrpcModelField.OpenInference },
        { ProtoBytes.Field(5, new byte[10]), GrpcModelField.OpenInference },
        { ProtoBytes.Field(1, ""), GrpcModelField.OpenInference },
        { ProtoBytes.Field(2, new byte[10]), GrpcModelField.TfServingModelSpec },
        { ProtoBytes.Field(1, ProtoBytes.Field(3, "sig")), GrpcModelField.TfServingModelSpec },
        { ProtoBytes.Field(2, new byte[10]), GrpcModelField.TfServingTasks },
        { InferenceTask(ProtoBytes.Field(3, "sig")), GrpcModelField.TfServingTasks },
    };

    [Theory]
    [MemberData(nameof(Unsplittable))]
    public void A_message_without_a_model_is_not_split(byte[] message, GrpcModelField field) =>
        Assert.Equal(GrpcPeekOutcome.NotPresent, GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(ProtoBytes.Frame(message)), field).Outcome);

    public static TheoryData<byte[], GrpcModelField, string> Malformed() => new()
    {
        { ProtoBytes.LyingField(1, 1UL << 63, "mnist"u8.ToArray()), GrpcModelField.OpenInference, "declares 9223372036854775808 bytes" },
        { ProtoBytes.LyingField(1, ulong.MaxValue, "mnist"u8.ToArray()), GrpcModelField.OpenInference, "declares 18446744073709551615 bytes" },
        { ProtoBytes.LyingField(1, (1UL << 31) + 5, "mnist"u8.ToArray()), GrpcModelField.OpenInference, "declares 2147483653 bytes" },
        { [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.LyingField(2, 1UL << 63, [])], GrpcModelField.OpenInference, "field 2 declares" },
        { ProtoBytes.LyingField(7, 1UL << 63, new byte[3]), GrpcModelField.OpenInference, "field 7 declares" },
        { ProtoBytes.LyingField(1, 1UL << 63, ProtoBytes.ModelSpec("m")), GrpcModelField.TfServingModelSpec, "field 1 declares" },
        { ProtoBytes.Field(1, ProtoBytes.LyingField(1, ulong.MaxValue, "m"u8.ToArray())), GrpcModelField.TfServingModelSpec, "only 1 remain" },
        { ProtoBytes.Field(1, [.. ProtoBytes.Field(1, "m"), .. ProtoBytes.LyingField(2, 1UL << 62, [])]), GrpcModelField.TfServingModelSpec, "field 2 declares" },
        { ProtoBytes.Field(1, ProtoBytes.LyingField(1, ulong.MaxValue, ProtoBytes.ModelSpec("m"))), GrpcModelField.TfServingTasks, "field 1 declares" },
        { [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], GrpcModelField.OpenInference, "longer than 64 bits" },
        { [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], GrpcModelField.OpenInference, "longer than 64 bits" },
        { [0x0E, 0x00], GrpcModelField.OpenInference, "wire type 6" },
        { [0x02, 0x00], GrpcModelField.OpenInference, "field number of 0" },
        { [0x0D, 0x01, 0x02], GrpcModelField.OpenInference, "runs past the end" },
        { [0x0A, 0x85], GrpcModelField.OpenInference, "varint runs past" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Lying_lengths_and_broken_varints_are_malformed_not_exceptions(byte[] message, GrpcModelField field, string error)
    {
        var peek = GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(ProtoBytes.Frame(message)), field);
        Assert.Equal(GrpcPeekOutcome.Malformed, peek.Outcome);
        Assert.Contains(error, peek.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_frame_with_a_bad_compressed_flag_is_malformed_and_a_compressed_one_is_not_split()
    {
        var frame = ProtoBytes.Frame(ProtoBytes.Field(1, "mnist"));
        frame[0] = 2;
        Assert.Equal(GrpcPeekOutcome.Malformed, GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(frame), GrpcModelField.OpenInference).Outcome);
        frame[0] = 1;
        Assert.Equal(GrpcPeekOutcome.NotPresent, GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(frame), GrpcModelField.OpenInference).Outcome);
    }

    [Fact]
    public async Task The_peek_leaves_the_body_unconsumed_and_reads_across_segments()
    {
        var frame = ProtoBytes.Frame(ProtoBytes.PredictRequest(ProtoBytes.ModelSpec("mnist"), new float[300]));
        var pipe = new Pipe();
        var peeking = GrpcModelNameReader.PeekAsync(pipe.Reader, GrpcModelField.TfServingModelSpec, CancellationToken.None).AsTask();
        // One byte at a time through the header and the model spec: the peek waits for each.
        for (var i = 0; i < 20; i++)
        {
            await pipe.Writer.WriteAsync(frame.AsMemory(i, 1));
        }

        await pipe.Writer.WriteAsync(frame.AsMemory(20));
        await pipe.Writer.CompleteAsync();
        var peek = await peeking;
        Assert.Equal(("mnist", false), (peek.Model, peek.Pinned));

        var forwarded = await pipe.Reader.ReadAtLeastAsync(frame.Length + 1);
        Assert.Equal(frame, forwarded.Buffer.ToArray());
    }

    [Fact]
    public async Task A_body_that_ends_inside_its_first_message_is_malformed_and_a_model_beyond_the_peek_limit_is_not_split()
    {
        var frame = ProtoBytes.Frame(ProtoBytes.Field(1, "mnist"));
        Assert.Equal(GrpcPeekOutcome.Malformed, (await PeekAsync(frame[..^2], complete: true)).Outcome);
        Assert.Equal(GrpcPeekOutcome.NotPresent, (await PeekAsync([], complete: true)).Outcome);

        // A 10,000-byte field before the model: the peek gives up at its limit and the call goes unsplit.
        byte[] far = [.. ProtoBytes.Field(5, new byte[10_000]), .. ProtoBytes.Field(1, "mnist")];
        Assert.Equal(GrpcPeekOutcome.NotPresent, (await PeekAsync(ProtoBytes.Frame(far)[..(GrpcModelNameReader.MaxPeekBytes + 100)], complete: false)).Outcome);
    }

    [Fact]
    public void Fuzzed_frames_never_throw_and_malformed_ones_say_why()
    {
        var random = new Random(20250101);
        var seeds = Messages().Select(row => ((byte[])row[0], (GrpcModelField)row[1]))
            .Concat(Malformed().Select(row => ((byte[])row[0], (GrpcModelField)row[1])))
            .ToArray();
        var outcomes = new Dictionary<GrpcPeekOutcome, int>();
        for (var i = 0; i < 50_000; i++)
        {
            var (seed, field) = seeds[random.Next(seeds.Length)];
            var message = Mutate(seed, random);
            var frame = ProtoBytes.Frame(message);
            if (random.Next(10) == 0)
            {
                // A lying frame length too.
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)random.NextInt64(0, uint.MaxValue + 1L));
            }

            var cut = random.Next(4) == 0 ? frame[..random.Next(frame.Length + 1)] : frame;
            var fields = new[] { field, GrpcModelField.OpenInference, GrpcModelField.TfServingModelSpec, GrpcModelField.TfServingTasks };
            foreach (var f in fields)
            {
                var peek = GrpcModelNameReader.TryRead(Segmented(cut, random), f);
                Assert.True(Enum.IsDefined(peek.Outcome));
                Assert.Equal(peek.Outcome == GrpcPeekOutcome.Malformed, peek.Error is not null);
                Assert.Equal(peek.Outcome == GrpcPeekOutcome.Found, peek.Model is { Length: > 0 });
                outcomes[peek.Outcome] = outcomes.GetValueOrDefault(peek.Outcome) + 1;
            }
        }

        // The fuzz reached every outcome.
        Assert.All(Enum.GetValues<GrpcPeekOutcome>(), o => Assert.True(outcomes.GetValueOrDefault(o) > 100, $"{o}: {outcomes.GetValueOrDefault(o)}"));
    }

    /// <summary>Random bytes flipped, inserted, dropped, or set to the extremes of a varint.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.InsertRange(at, ProtoBytes.VarintBytes(random.Next(2) == 0 ? ulong.MaxValue : 1UL << 63));
                    break;
                default:
                    bytes.InsertRange(at, Enumerable.Repeat((byte)0xFF, random.Next(1, 12)));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>The bytes as a sequence of 1 to 3 segments, as a pipe may hold them.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, Random random)
    {
        if (bytes.Length < 2 || random.Next(2) == 0)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var split = random.Next(1, bytes.Length);
        var first = new Segment(bytes.AsMemory(0, split), 0);
        var last = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static async Task<GrpcPeek> PeekAsync(byte[] body, bool complete)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(body);
        if (complete)
        {
            await pipe.Writer.CompleteAsync();
        }

        return await GrpcModelNameReader.PeekAsync(pipe.Reader, GrpcModelField.OpenInference, CancellationToken.None);
    }

    /// <summary>MultiInferenceRequest.tasks (1): InferenceTask with model_spec 1 and method_name 2.</summary>
    private static byte[] InferenceTask(byte[] modelSpec) => ProtoBytes.Field(1, [.. ProtoBytes.Field(1, modelSpec), .. ProtoBytes.Field(2, "tensorflow/serving/regress")]);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
