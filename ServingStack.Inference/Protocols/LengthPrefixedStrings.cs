using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// BYTES elements in the layout that Triton's binary tensor data and gRPC's raw contents share: each a 4-byte
/// little-endian length and then its bytes. Every length is checked against the bytes present before it is used.
/// </summary>
public static class LengthPrefixedStrings
{
    public const int PrefixSize = sizeof(uint);

    /// <summary>
    /// Reads <paramref name="count"/> elements that must fill <paramref name="bytes"/> exactly; <paramref name="source"/>
    /// names the bytes in messages ("its binary data", "raw_input_contents[0]").
    /// </summary>
    public static string[]? Read(string name, string source, long[] shape, long count, ReadOnlySpan<byte> bytes, out ServingError? error)
    {
        var shown = ClientText.Cut(name);
        // Every element costs at least its length prefix, which bounds the array by the bytes actually sent.
        if (count < 0 || count > bytes.Length / PrefixSize)
        {
            error = ServingError.InvalidArgument(
                $"input '{shown}': {source} has {bytes.Length} bytes, too few for the {(count < 0 ? "more than 2^63" : count)} BYTES elements of shape {ShapeText.Format(shape)} (each is a 4-byte little-endian length and then its bytes)");
            return null;
        }

        var strings = new string[count];
        var offset = 0;
        for (var e = 0; e < strings.Length; e++)
        {
            if (bytes.Length - offset < PrefixSize)
            {
                error = ServingError.InvalidArgument(
                    $"input '{shown}': {source} ends inside the length prefix of BYTES element {e} of {count} (each element is a 4-byte little-endian length and then its bytes)");
                return null;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
            offset += PrefixSize;
            if (length > (uint)(bytes.Length - offset))
            {
                error = ServingError.InvalidArgument(
                    $"input '{shown}': BYTES element {e} of {source} has a length prefix of {length} but only {bytes.Length - offset} bytes follow");
                return null;
            }

            if (!TryDecode(shown, e, bytes.Slice(offset, (int)length), out strings[e], out error))
            {
                return null;
            }

            offset += (int)length;
        }

        if (offset != bytes.Length)
        {
            error = ServingError.InvalidArgument(
                $"input '{shown}': {source} has {bytes.Length - offset} bytes left after the {count} BYTES elements that shape {ShapeText.Format(shape)} holds");
            return null;
        }

        error = null;
        return strings;
    }

    /// <summary>
    /// One element as text (<paramref name="shownName"/> is the input's name already cut for messages). BYTES become
    /// strings because that is what <see cref="InferenceTensor"/> and ONNX Runtime's string tensors hold; bytes that are
    /// not UTF-8 could not come back unchanged, so they are refused rather than silently replaced.
    /// </summary>
    public static bool TryDecode(string shownName, int element, ReadOnlySpan<byte> bytes, out string value, out ServingError? error)
    {
        if (!Utf8.IsValid(bytes))
        {
            value = string.Empty;
            error = ServingError.InvalidArgument($"input '{shownName}': BYTES element {element} is not valid UTF-8; this server keeps BYTES elements as UTF-8 text");
            return false;
        }

        value = Encoding.UTF8.GetString(bytes);
        error = null;
        return true;
    }
}
