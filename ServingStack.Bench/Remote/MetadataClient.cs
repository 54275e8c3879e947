using System.Net.Http;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using ServingStack.Bench.Inputs;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Remote;

/// <summary>Fetches a model's Open Inference metadata; failures become <see cref="BenchException"/>s that say what to check.</summary>
public static class MetadataClient
{
    /// <summary>GET /v2/models/{model}[/versions/{version}].</summary>
    public static async Task<ModelSignature> FetchRestAsync(HttpClient client, Uri baseUrl, string model, string? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var uri = new Uri(baseUrl, version is null ? $"v2/models/{model}" : $"v2/models/{model}/versions/{version}");
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new BenchException($"Could not reach {uri}: {ex.Message} Is the server running on that port?", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchException($"GET {uri} timed out.", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchException($"GET {uri} answered {(int)response.StatusCode}: {Shorten(body)}");
            }

            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                return new ModelSignature(
                    root.TryGetProperty("name", out var name) ? name.GetString() ?? model : model,
                    root.TryGetProperty("versions", out var versions) ? versions.EnumerateArray().Select(v => v.GetString() ?? string.Empty).ToArray() : [],
                    ReadTensors(root, "inputs"),
                    ReadTensors(root, "outputs"));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new BenchException($"GET {uri} did not answer Open Inference model metadata: {ex.Message}", ex);
            }
        }
    }

    /// <summary>The ModelMetadata RPC.</summary>
    public static async Task<ModelSignature> FetchGrpcAsync(GrpcChannel channel, string model, string? version, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        try
        {
            var response = await client.ModelMetadataAsync(
                new ModelMetadataRequest { Name = model, Version = version ?? string.Empty },
                deadline: DateTime.UtcNow + timeout,
                cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
            return new ModelSignature(
                response.Name,
                response.Versions.ToArray(),
                response.Inputs.Select(t => new TensorSpec(t.Name, t.Datatype.ToUpperInvariant(), t.Shape.ToArray())).ToArray(),
                response.Outputs.Select(t => new TensorSpec(t.Name, t.Datatype.ToUpperInvariant(), t.Shape.ToArray())).ToArray());
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var hint = ex.StatusCode is StatusCode.Unavailable or StatusCode.Unimplemented or StatusCode.Internal
                ? " Is the server's gRPC port (its --port, 8500 by default) the one in --url, and does it serve gRPC?"
                : string.Empty;
            throw new BenchException($"gRPC ModelMetadata for '{model}' at {channel.Target} failed: {ex.StatusCode} {ex.Status.Detail}{hint}", ex);
        }
    }

    public static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static TensorSpec[] ReadTensors(JsonElement root, string property) =>
        root.TryGetProperty(property, out var tensors)
            ? tensors.EnumerateArray().Select(t => new TensorSpec(
                t.GetProperty("name").GetString()!,
                t.GetProperty("datatype").GetString()!.ToUpperInvariant(),
                t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToArray()
            : [];
}
