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
}
