using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Peeks at the first message of a gRPC call for the model it names (and whether it pins a version) without consuming
/// the body: the pipe is advanced with nothing consumed, so YARP forwards the bytes unchanged. Only the frame header
/// and the leading fields that carry the model are read (at most <see cref="MaxPeekBytes"/>), never the tensors. Every
/// length is checked against the end of the message that holds it before it is used, so a lying length is
/// <see cref="GrpcPeekOutcome.Malformed"/>, never an exception.
/// </summary>
public static class GrpcModelNameReader
{
    /// <summary>The most bytes buffered while looking for the model; beyond it the call is not split.</summary>
    public const int MaxPeekBytes = 4096;

    private const int FrameHeader = 5;
    private const ulong MaxFieldNumber = (1UL << 29) - 1;

    /// <summary>Which field names the model in the first message of the method at <paramref name="path"/>.</summary>
    public static GrpcModelField FieldOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var slash = path.LastIndexOf('/');
        if (slash <= 0)
        {
            return GrpcModelField.None;
        }

        var service = path.AsSpan(0, slash);
        var method = path.AsSpan(slash + 1);
        if (service.SequenceEqual("/inference.GRPCInferenceService"))
        {
            // Requests whose field 1 is the model (RepositoryModelLoad's field 1 is the repository, so it is not here).
            return method is "ModelInfer" or "ModelStreamInfer" or "ModelReady" or "ModelMetadata" or "ModelConfig" or "ModelStatistics"
                ? GrpcModelField.OpenInference
                : GrpcModelField.None;
        }

        if (service.SequenceEqual("/tensorflow.serving.PredictionService"))
        {
            return method switch
            {
                "Predict" or "Classify" or "Regress" or "GetModelMetadata" => GrpcModelField.TfServingModelSpec,
                "MultiInference" => GrpcModelField.TfServingTasks,
                _ => GrpcModelField.None,
            };
        }

        // HandleReloadConfigRequest carries a whole server configuration, not a model.
        return service.SequenceEqual("/tensorflow.serving.ModelService") && method.SequenceEqual("GetModelStatus")
            ? GrpcModelField.TfServingModelSpec
            : GrpcModelField.None;
    }

    public static async ValueTask<GrpcPeek> PeekAsync(PipeReader body, GrpcModelField field, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (field == GrpcModelField.None)
        {
            return GrpcPeek.NotPresent;
        }

        while (true)
        {
            var result = await body.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var peek = TryRead(buffer, field);
            if (peek.Outcome == GrpcPeekOutcome.NeedMore && !result.IsCompleted && buffer.Length < MaxPeekBytes)
            {
                // Nothing consumed, everything examined: the next read waits for more bytes.
                body.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            body.AdvanceTo(buffer.Start);
            if (peek.Outcome != GrpcPeekOutcome.NeedMore)
            {
                return peek;
            }

            // The whole body is here and still too short: it ends inside its first message. Otherwise the model lies
            // beyond what the gateway is willing to buffer, and the model server gets to judge the call.
            return result.IsCompleted && !buffer.IsEmpty
                ? GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture, $"the request body ends after {buffer.Length} bytes, inside its first message"))
                : GrpcPeek.NotPresent;
        }
    }

    internal static GrpcPeek TryRead(ReadOnlySequence<byte> buffer, GrpcModelField field)
    {
        var reader = new SequenceReader<byte>(buffer);
        // Frame: compressed flag (1 byte), big-endian unsigned length (4 bytes).
        if (!reader.TryRead(out var compressed) || !reader.TryReadBigEndian(out int length))
        {
            return GrpcPeek.NeedMore;
        }

        if (compressed > 1)
        {
            return GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture, $"the gRPC frame's compressed flag is {compressed}, not 0 or 1"));
        }

        if (compressed == 1)
        {
            // A compressed message cannot be peeked; the call is not split.
            return GrpcPeek.NotPresent;
        }

        var end = FrameHeader + (long)(uint)length;
        return field switch
        {
            GrpcModelField.OpenInference => ReadOpenInference(ref reader, end),
            GrpcModelField.TfServingModelSpec => ReadTfServing(ref reader, end),
            GrpcModelField.TfServingTasks => ReadTasks(ref reader, end),
            _ => GrpcPeek.NotPresent,
        };
    }

    /// <summary>model_name (1) and model_version (2), both strings; written before the tensors.</summary>
    private static GrpcPeek ReadOpenInference(ref SequenceReader<byte> reader, long end)
    {
        string? name = null;
        var pinned = false;
        while (reader.Consumed < end)
        {
            var step = ReadTag(ref reader, end, out var field, out var wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }

            if (wireType == 2 && field is 1 or 2)
            {
                step = ReadString(ref reader, end, field, out var text);
                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }

                if (field == 1)
                {
                    name = text;
                }
                else
                {
                    pinned = text.Length > 0;
                }

                continue;
            }

            if (name is not null)
            {
                // Fields are written in order: past model_name and model_version, nothing more to learn.
                break;
            }

            step = SkipField(ref reader, end, field, wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }
        }

        return string.IsNullOrEmpty(name) ? GrpcPeek.NotPresent : GrpcPeek.Found(name, pinned);
    }

    /// <summary>model_spec (1) of PredictRequest, ClassificationRequest, RegressionRequest, GetModelMetadataRequest, GetModelStatusRequest.</summary>
    private static GrpcPeek ReadTfServing(ref SequenceReader<byte> reader, long end)
    {
        while (reader.Consumed < end)
        {
            var step = ReadTag(ref reader, end, out var field, out var wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }

            if (field == 1 && wireType == 2)
            {
                step = ReadEmbedded(ref reader, end, field, out var specEnd);
                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }

                step = ReadModelSpec(ref reader, specEnd, out var name, out var pinned);
                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }

                return string.IsNullOrEmpty(name) ? GrpcPeek.NotPresent : GrpcPeek.Found(name, pinned);
            }

            step = SkipField(ref reader, end, field, wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }
        }

        return GrpcPeek.NotPresent;
    }

    /// <summary>
    /// MultiInferenceRequest: tasks (1), each an InferenceTask with model_spec (1). TF Serving requires every task to name
    /// the same model; the call is split by it only when every task does and none names a version or label; otherwise
    /// it is treated as pinned and keeps the route's cluster.
    /// </summary>
    private static GrpcPeek ReadTasks(ref SequenceReader<byte> reader, long end)
    {
        string? model = null;
        var pinned = false;
        while (reader.Consumed < end)
        {
            var step = ReadTag(ref reader, end, out var field, out var wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }

            if (field != 1 || wireType != 2)
            {
                if (model is not null)
                {
                    // Tasks are written before the input: past them.
                    break;
                }

                step = SkipField(ref reader, end, field, wireType);
                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }

                continue;
            }

            step = ReadEmbedded(ref reader, end, field, out var taskEnd);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }

            string? name = null;
            var taskPinned = false;
            while (reader.Consumed < taskEnd)
            {
                step = ReadTag(ref reader, taskEnd, out var taskField, out var taskWire);
                if (step.Outcome == GrpcPeekOutcome.Found)
                {
                    if (taskField == 1 && taskWire == 2)
                    {
                        step = ReadEmbedded(ref reader, taskEnd, taskField, out var specEnd);
                        if (step.Outcome == GrpcPeekOutcome.Found)
                        {
                            step = ReadModelSpec(ref reader, specEnd, out name, out taskPinned);
                        }
                    }
                    else
                    {
                        step = SkipField(ref reader, taskEnd, taskField, taskWire);
                    }
                }

                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }
            }

            if (string.IsNullOrEmpty(name))
            {
                pinned = true;
                model ??= "";
            }
            else if (model is null)
            {
                model = name;
            }
            else if (!string.Equals(model, name, StringComparison.Ordinal))
            {
                pinned = true;
            }

            pinned |= taskPinned;
        }

        return string.IsNullOrEmpty(model) ? GrpcPeek.NotPresent : GrpcPeek.Found(model, pinned);
    }

    /// <summary>ModelSpec: name (1); version (2, an Int64Value) or version_label (4) pin it; signature_name (3) is skipped.</summary>
    private static GrpcPeek ReadModelSpec(ref SequenceReader<byte> reader, long end, out string? name, out bool pinned)
    {
        name = null;
        pinned = false;
        while (reader.Consumed < end)
        {
            var step = ReadTag(ref reader, end, out var field, out var wireType);
            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }

            if (field == 1 && wireType == 2)
            {
                step = ReadString(ref reader, end, field, out var text);
                name = text;
            }
            else
            {
                // version and version_label form a oneof: either one present pins the request.
                pinned |= wireType == 2 && field is 2 or 4;
                step = SkipField(ref reader, end, field, wireType);
            }

            if (step.Outcome != GrpcPeekOutcome.Found)
            {
                return step;
            }
        }

        return GrpcPeek.Found("", pinned);
    }

    /// <summary>A length-delimited field that must be here entirely (a small embedded message); its end on return.</summary>
    private static GrpcPeek ReadEmbedded(ref SequenceReader<byte> reader, long end, ulong field, out long embeddedEnd)
    {
        embeddedEnd = 0;
        var step = ReadLength(ref reader, end, field, out var length);
        if (step.Outcome != GrpcPeekOutcome.Found)
        {
            return step;
        }

        if (reader.Remaining < length)
        {
            return GrpcPeek.NeedMore;
        }

        embeddedEnd = reader.Consumed + length;
        return Ok;
    }

    private static GrpcPeek ReadString(ref SequenceReader<byte> reader, long end, ulong field, out string text)
    {
        text = "";
        var step = ReadLength(ref reader, end, field, out var length);
        if (step.Outcome != GrpcPeekOutcome.Found)
        {
            return step;
        }

        if (reader.Remaining < length)
        {
            return GrpcPeek.NeedMore;
        }

        // Invalid UTF-8 becomes U+FFFD: such a name matches no split, and the model server judges it.
        text = Encoding.UTF8.GetString(reader.Sequence.Slice(reader.Position, length));
        reader.Advance(length);
        return Ok;
    }

    /// <summary>The length of a length-delimited field, checked against what is left of the message that holds it.</summary>
    private static GrpcPeek ReadLength(ref SequenceReader<byte> reader, long end, ulong field, out long length)
    {
        length = 0;
        var step = ReadVarint(ref reader, end, out var declared);
        if (step.Outcome != GrpcPeekOutcome.Found)
        {
            return step;
        }

        var left = end - reader.Consumed;
        if (declared > (ulong)left)
        {
            return GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture,
                $"field {field} declares {declared} bytes, but only {left} remain in its message"));
        }

        length = (long)declared;
        return Ok;
    }

    private static GrpcPeek ReadTag(ref SequenceReader<byte> reader, long end, out ulong field, out int wireType)
    {
        field = 0;
        wireType = 0;
        var step = ReadVarint(ref reader, end, out var tag);
        if (step.Outcome != GrpcPeekOutcome.Found)
        {
            return step;
        }

        field = tag >> 3;
        wireType = (int)(tag & 7);
        if (field is 0 or > MaxFieldNumber)
        {
            return GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture, $"a field number of {field} is outside [1, {MaxFieldNumber}]"));
        }

        return wireType is 6 or 7
            ? GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture, $"field {field} has wire type {wireType}, which does not exist"))
            : Ok;
    }

    private static GrpcPeek SkipField(ref SequenceReader<byte> reader, long end, ulong field, int wireType)
    {
        switch (wireType)
        {
            case 0:
                return ReadVarint(ref reader, end, out _);
            case 1:
            case 5:
                var size = wireType == 1 ? 8 : 4;
                if (end - reader.Consumed < size)
                {
                    return GrpcPeek.Malformed(string.Create(CultureInfo.InvariantCulture, $"field {field} runs past the end of its message"));
                }

                if (reader.Remaining < size)
                {
                    return GrpcPeek.NeedMore;
                }

                reader.Advance(size);
                return Ok;
            case 2:
                var step = ReadLength(ref reader, end, field, out var length);
                if (step.Outcome != GrpcPeekOutcome.Found)
                {
                    return step;
                }

                if (reader.Remaining < length)
                {
                    return GrpcPeek.NeedMore;
                }

                reader.Advance(length);
                return Ok;
            default:
                // Groups (3, 4) are not used by these messages; the gateway does not follow them and leaves the call unsplit.
                return GrpcPeek.NotPresent;
        }
    }

    /// <summary>A base-128 varint of at most 10 bytes (64 bits) that ends before <paramref name="end"/>.</summary>
    private static GrpcPeek ReadVarint(ref SequenceReader<byte> reader, long end, out ulong value)
    {
        value = 0;
        for (var i = 0; i < 10; i++)
        {
            if (reader.Consumed >= end)
            {
                return GrpcPeek.Malformed("a varint runs past the end of its message");
            }

            if (!reader.TryRead(out var b))
            {
                return GrpcPeek.NeedMore;
            }

            if (i == 9 && b > 1)
            {
                return GrpcPeek.Malformed("a varint is longer than 64 bits");
            }

            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return Ok;
            }
        }

        return GrpcPeek.Malformed("a varint is longer than 64 bits");
    }

    /// <summary>A step that succeeded (the <see cref="GrpcPeekOutcome.Found"/> outcome doubles as "go on").</summary>
    private static GrpcPeek Ok => new(GrpcPeekOutcome.Found, null, false, null);
}
