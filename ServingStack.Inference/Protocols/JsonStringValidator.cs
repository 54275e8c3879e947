using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// System.Text.Json parses a string with invalid UTF-8 or an unpaired surrogate escape (<c>"\ud800"</c>) without
/// complaint and throws only when the string is read, or when a property lookup has to unescape such a key. Checking the
/// whole body once, before any of it is read, turns those into a 400 that names where the bad string is, and lets every
/// reader after it take strings as they are.
/// </summary>
public static class JsonStringValidator
{
    /// <summary>Null when every string and property name in <paramref name="json"/> (already parsed) is valid text.</summary>
    public static ServingError? Check(ReadOnlySpan<byte> json)
    {
        // The common case costs two vectorised scans: all bytes are UTF-8 and nothing is \u-escaped, so no string can be
        // bad. Only otherwise is the document walked token by token, to find the string and say where it is.
        if (Utf8.IsValid(json) && json.IndexOf("\\u"u8) < 0)
        {
            return null;
        }

        return Find(json);
    }

    private static ServingError? Find(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        // The open containers: the property each sits under (null for a list element or the root), and for a list the
        // index of the element being read.
        var frames = new List<Frame>();
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (Problem(ref reader) is { } keyProblem)
                        {
                            return ServingError.InvalidArgument($"a property name in {Path(frames, null)} {keyProblem}");
                        }

                        pendingName = reader.GetString();
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        frames.Add(new Frame(pendingName, reader.TokenType == JsonTokenType.StartArray, 0));
                        pendingName = null;
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.String:
                        if (Problem(ref reader) is { } valueProblem)
                        {
                            return ServingError.InvalidArgument($"the string at {Path(frames, pendingName)} {valueProblem}");
                        }

                        break;
                }

                // A value ended: the enclosing list moves on to its next element.
                if (frames.Count > 0 && frames[^1].IsList)
                {
                    frames[^1] = frames[^1] with { Index = frames[^1].Index + 1 };
                }

                pendingName = null;
            }
        }
        catch (JsonException)
        {
            // The document already parsed; a reader failure here means nothing more to find.
        }

        return null;
    }

    private static string? Problem(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return Utf8.IsValid(reader.ValueSpan) ? null : "is not valid UTF-8";
        }

        if (!Utf8.IsValid(reader.ValueSpan))
        {
            return "is not valid UTF-8";
        }

        try
        {
            _ = reader.GetString();
            return null;
        }
        catch (InvalidOperationException)
        {
            return "has an unpaired UTF-16 surrogate escape (such as \\ud800), which is not text";
        }
    }

    private static string Path(List<Frame> frames, string? last)
    {
        var path = new StringBuilder();
        foreach (var frame in frames)
        {
            if (frame.Name is { } name)
            {
                Append(path, name);
            }

            if (frame.IsList)
            {
                path.Append('[').Append(frame.Index).Append(']');
            }
        }

        if (last is not null)
        {
            Append(path, last);
        }

        return path.Length == 0 ? "the top level" : path.ToString();
    }

    private static void Append(StringBuilder path, string name)
    {
        if (path.Length > 0)
        {
            path.Append('.');
        }

        path.Append(ClientText.Cut(name));
    }

    private readonly record struct Frame(string? Name, bool IsList, int Index);
}
