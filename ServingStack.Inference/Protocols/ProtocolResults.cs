using System.Globalization;
using System.Text.Json;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>The serving protocols' own error shape, <c>{"error": "..."}</c>, shared by TF Serving and Open Inference REST.</summary>
public static class ProtocolResults
{
    public static Task WriteErrorAsync(HttpContext context, ServingError error)
    {
        context.Response.StatusCode = error.HttpStatus;
        if (error.Code == ServingErrorCode.ResourceExhausted && error.HttpStatus == StatusCodes.Status429TooManyRequests)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("error", error.Message);
            writer.WriteEndObject();
        });
    }

    public static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { SkipValidation = true });
        write(writer);
        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>
    /// A response with binary tensor data: the JSON part (measured first, as its length goes in
    /// <c>Inference-Header-Content-Length</c>), then the bytes of each output <paramref name="isBinary"/> picks, in order.
    /// </summary>
    public static async Task WriteWithBinaryAsync(HttpContext context, Action<Utf8JsonWriter> writeJson, InferenceTensor[] outputs, Func<int, bool> isBinary)
    {
        using var json = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { SkipValidation = true }))
        {
            writeJson(writer);
        }

        long binaryLength = 0;
        for (var i = 0; i < outputs.Length; i++)
        {
            if (isBinary(i))
            {
                binaryLength += BinaryTensorData.ByteCount(outputs[i]);
            }
        }

        var response = context.Response;
        response.ContentType = BinaryTensorData.ContentType;
        response.Headers[BinaryTensorData.HeaderLengthHeader] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
        response.ContentLength = json.WrittenCount + binaryLength;
        await response.BodyWriter.WriteAsync(json.WrittenMemory, context.RequestAborted);
        for (var i = 0; i < outputs.Length; i++)
        {
            if (isBinary(i))
            {
                await BinaryTensorData.WriteAsync(response.BodyWriter, outputs[i], context.RequestAborted);
            }
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
