using System.Buffers.Binary;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using Tensorflow.Serving;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// One entry of <c>grpc-corpus.json</c>: a unary call (<c>method</c>, the full path) whose body is a request in protobuf
/// JSON (<c>request</c>, encoded with the published message type), raw message bytes (<c>payload</c>, hex, framed here)
/// or the whole HTTP/2 body (<c>frame</c>, hex, for broken framing); with <c>headers</c>, the status code it must get
/// (a <see cref="StatusCode"/> name) and the fragments its message must contain. <c>gateway</c> states the answer
/// through the gateway where it differs.
/// </summary>
public sealed record HostileGrpcCall(
    string Name, string Method, byte[] Body, IReadOnlyDictionary<string, string> Headers, StatusCode Status, IReadOnlyList<string> Contains)
{
    private static readonly ServiceDescriptor[] s_services = [GRPCInferenceService.Descriptor, PredictionService.Descriptor, ModelService.Descriptor];

    public (StatusCode Status, IReadOnlyList<string> Contains)? Gateway { get; init; }

    public override string ToString() => Name;

    public static IReadOnlyList<HostileGrpcCall> Load(string fileName, string section = "calls")
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Hostile", fileName)));
        var calls = new List<HostileGrpcCall>();
        foreach (var entry in document.RootElement.GetProperty(section).EnumerateArray())
        {
            var name = entry.GetProperty("name").GetString()!;
            var method = entry.GetProperty("method").GetString()!;
            byte[] body;
            if (entry.TryGetProperty("request", out var request))
            {
                body = Frame(RequestType(method).Parser.ParseJson(request.GetRawText()).ToByteArray());
            }
            else if (entry.TryGetProperty("payload", out var payload))
            {
                body = Frame(HostileRequest.Expand(payload.GetString()!));
            }
            else
            {
                body = HostileRequest.Expand(entry.GetProperty("frame").GetString()!);
            }

            var headers = new Dictionary<string, string>();
            if (entry.TryGetProperty("headers", out var h))
            {
                foreach (var header in h.EnumerateObject())
                {
                    headers[header.Name] = header.Value.GetString()!;
                }
            }

            calls.Add(new HostileGrpcCall(name, method, body, headers, Enum.Parse<StatusCode>(entry.GetProperty("status").GetString()!), Fragments(entry))
            {
                Gateway = entry.TryGetProperty("gateway", out var g) ? (Enum.Parse<StatusCode>(g.GetProperty("status").GetString()!), Fragments(g)) : null,
            });
        }

        return calls;
    }

    /// <summary>The request message type of <paramref name="method"/> (<c>/package.Service/Method</c>), from the published descriptors.</summary>
    public static MessageDescriptor RequestType(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var slash = method.LastIndexOf('/');
        var service = method[1..slash];
        foreach (var descriptor in s_services)
        {
            if (descriptor.FullName == service && descriptor.FindMethodByName(method[(slash + 1)..]) is { } found)
            {
                return found.InputType;
            }
        }

        throw new ArgumentException($"no published method {method}", nameof(method));
    }

    /// <summary>A gRPC length-prefixed message: flag 0 (not compressed), the length big-endian, the bytes.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var body = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)message.Length);
        message.CopyTo(body.AsSpan(5));
        return body;
    }

    private static string[] Fragments(JsonElement entry) =>
        entry.TryGetProperty("contains", out var c) ? [.. c.EnumerateArray().Select(f => f.GetString()!)] : [];
}
