using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ServingStack.Inference.Configuration;

/// <summary>
/// Reads protobuf text format (what tensorflow_model_server's <c>--model_config_file</c> uses) into a JSON tree, so one
/// mapper handles both file formats. Fields named in <paramref name="repeatedFields"/> always become arrays; a map field
/// arrives as an array of <c>{key, value}</c> objects, as in the text format itself.
/// </summary>
public sealed class TextProtoParser
{
    private readonly string _text;
    private readonly ISet<string> _repeatedFields;
    private int _pos;
    private int _line = 1;

    private TextProtoParser(string text, ISet<string> repeatedFields)
    {
        _text = text;
        _repeatedFields = repeatedFields;
    }

    public static JsonObject Parse(string text, ISet<string> repeatedFields)
    {
        var parser = new TextProtoParser(text, repeatedFields);
        var message = parser.ParseMessage(endChar: '\0');
        parser.SkipTrivia();
        if (parser._pos < text.Length)
        {
            throw parser.Error($"unexpected '{text[parser._pos]}'");
        }

        return message;
    }

    private JsonObject ParseMessage(char endChar)
    {
        var message = new JsonObject();
        while (true)
        {
            SkipTrivia();
            if (_pos >= _text.Length)
            {
                if (endChar != '\0')
                {
                    throw Error($"missing '{endChar}' before the end of the file");
                }

                return message;
            }

            if (_text[_pos] == endChar)
            {
                _pos++;
                return message;
            }

            var name = ReadIdentifier();
            SkipTrivia();
            var hasColon = Peek() == ':';
            if (hasColon)
            {
                _pos++;
                SkipTrivia();
            }

            JsonNode? value;
            if (Peek() is '{' or '<')
            {
                var close = Peek() == '{' ? '}' : '>';
                _pos++;
                value = ParseMessage(close);
            }
            else if (!hasColon)
            {
                throw Error($"expected ':' or '{{' after '{name}'");
            }
            else if (Peek() == '[')
            {
                _pos++;
                var list = new JsonArray();
                SkipTrivia();
                while (Peek() != ']')
                {
                    list.Add(ReadScalar());
                    SkipTrivia();
                    if (Peek() == ',')
                    {
                        _pos++;
                        SkipTrivia();
                    }
                }

                _pos++;
                foreach (var item in list.ToArray())
                {
                    list.Remove(item);
                    Add(message, name, item);
                }

                SkipSeparator();
                continue;
            }
            else
            {
                value = ReadScalar();
            }

            Add(message, name, value);
            SkipSeparator();
        }
    }

    private void Add(JsonObject message, string name, JsonNode? value)
    {
        if (_repeatedFields.Contains(name))
        {
            if (message[name] is not JsonArray array)
            {
                array = [];
                message[name] = array;
            }

            array.Add(value);
        }
        else if (message.ContainsKey(name))
        {
            throw Error($"field '{name}' is set twice");
        }
        else
        {
            message[name] = value;
        }
    }

    private JsonNode? ReadScalar()
    {
        var c = Peek();
        if (c is '"' or '\'')
        {
            var sb = new StringBuilder();
            // Adjacent string literals concatenate, as in protobuf text format.
            while (Peek() is '"' or '\'')
            {
                sb.Append(ReadString());
                SkipTrivia();
            }

            return JsonValue.Create(sb.ToString());
        }

        var start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '-' or '+' or '.' or '_'))
        {
            _pos++;
        }

        var token = _text[start.._pos];
        if (token.Length == 0)
        {
            throw Error(_pos < _text.Length ? $"unexpected '{_text[_pos]}'" : "unexpected end of file");
        }

        if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
        {
            return JsonValue.Create(real);
        }

        return token switch
        {
            "true" or "True" or "t" => JsonValue.Create(true),
            "false" or "False" or "f" => JsonValue.Create(false),
            _ => JsonValue.Create(token), // enum value
        };
    }

    private string ReadString()
    {
        var quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n')
            {
                throw Error("unterminated string");
            }

            var c = _text[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }

            if (c == '\\' && _pos < _text.Length)
            {
                var e = _text[_pos++];
                sb.Append(e switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => e,
                });
            }
            else
            {
                sb.Append(c);
            }
        }
    }

    private string ReadIdentifier()
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.' or '[' or ']' or '/'))
        {
            _pos++;
        }

        if (start == _pos)
        {
            throw Error($"expected a field name but found '{_text[_pos]}'");
        }

        return _text[start.._pos];
    }

    private void SkipSeparator()
    {
        SkipTrivia();
        if (Peek() is ',' or ';')
        {
            _pos++;
        }
    }

    private void SkipTrivia()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '\n')
            {
                _line++;
                _pos++;
            }
            else if (char.IsWhiteSpace(c))
            {
                _pos++;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private FormatException Error(string message) => new($"line {_line}: {message}");
}
