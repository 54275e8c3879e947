using Microsoft.ML.OnnxRuntime;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// Classifies ONNX Runtime failures by the status code ORT returned, not by words somewhere in its message. Only
/// INVALID_ARGUMENT blames what the caller passed in (a shape or value a kernel refused, an index out of range);
/// every other code (FAIL, RUNTIME_EXCEPTION, NOT_IMPLEMENTED, INVALID_GRAPH, an engine error ...) is the server's:
/// inputs were already checked against the model's signature, so those point at the model or the runtime.
/// </summary>
public static class OnnxRuntimeErrors
{
    // ORT's .NET binding (1.31) keeps the code out of its public API (its ErrorCode enum is internal and the exception
    // stores no property), but writes it, from ORT's status, as the message's first token: "[ErrorCode:Name] ...".
    private const string CodePrefix = "[ErrorCode:";

    /// <summary>The code ORT reported; <see cref="OnnxRuntimeErrorCode.Fail"/> when the exception carries none.</summary>
    public static OnnxRuntimeErrorCode CodeOf(OnnxRuntimeException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message.AsSpan();
        if (!message.StartsWith(CodePrefix, StringComparison.Ordinal))
        {
            return OnnxRuntimeErrorCode.Fail;
        }

        var rest = message[CodePrefix.Length..];
        var end = rest.IndexOf(']');
        return end > 0 && Enum.TryParse<OnnxRuntimeErrorCode>(rest[..end], ignoreCase: false, out var code) && Enum.IsDefined(code) && !IsNumber(rest[..end])
            ? code
            : OnnxRuntimeErrorCode.Fail;
    }

    /// <summary>True when ORT blamed the inputs it was given: the request's fault (400 / INVALID_ARGUMENT).</summary>
    public static bool IsInvalidInput(OnnxRuntimeException exception) => CodeOf(exception) == OnnxRuntimeErrorCode.InvalidArgument;

    /// <summary>The serving code for a failed run: INVALID_ARGUMENT for the inputs' fault, INTERNAL otherwise.</summary>
    public static ServingErrorCode Classify(OnnxRuntimeException exception) =>
        IsInvalidInput(exception) ? ServingErrorCode.InvalidArgument : ServingErrorCode.Internal;

    // Enum.TryParse also takes "2" or "1,2"; the binding writes names only.
    private static bool IsNumber(ReadOnlySpan<char> text) => text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' || text.Contains(','));
}
