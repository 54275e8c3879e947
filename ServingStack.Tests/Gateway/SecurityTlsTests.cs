using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Gateway.Hosting;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Gateway;

/// <summary>With a certificate configured, REST is HTTPS and gRPC is HTTP/2 over TLS, from a PFX or from PEM files.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SecurityTlsTests(GatewayServersFixture servers) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-tls-").FullName;

    [Theory]
    [InlineData("pfx")]
    [InlineData("pem")]
    public async Task With_a_certificate_both_listeners_use_tls(string format)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var settings = servers.Settings(stableWeight: 100, canaryWeight: 0);
        if (format == "pfx")
        {
            var path = Path.Combine(_directory, "gateway.pfx");
            await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "secret"));
            settings["Gateway:Tls:CertificatePath"] = path;
            settings["Gateway:Tls:Password"] = "secret";
        }
        else
        {
            var certPath = Path.Combine(_directory, "gateway.crt");
            var keyPath = Path.Combine(_directory, "gateway.key");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
            settings["Gateway:Tls:CertificatePath"] = certPath;
            settings["Gateway:Tls:KeyPath"] = keyPath;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        var endpoints = gateway.Services.GetRequiredService<GatewayEndpoints>();
        var thumbprint = certificate.Thumbprint;
        var seen = new List<string>();
        SocketsHttpHandler Handler() => new()
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) =>
            {
                lock (seen)
                {
                    seen.Add(presented?.GetCertHashString() ?? "");
                }

                return presented?.GetCertHashString() == thumbprint;
            } },
        };

        using var https = new HttpClient(Handler()) { BaseAddress = new Uri($"https://127.0.0.1:{endpoints.RestPort}") };
        var row = GatewayClient.Rows(1, seed: 31)[0];
        using var response = await https.PostAsync("/v1/models/mnist:predict", JsonContent.Create(new { instances = new[] { row } }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = Json.Floats(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["predictions"]![0]);
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), prediction);
        Assert.Contains(thumbprint, seen);

        // Plain HTTP to the TLS port does not get an answer.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => gateway.Client.GetAsync("/health"));

        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{endpoints.GrpcPort}", new GrpcChannelOptions { HttpHandler = Handler() });
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var infer = await client.ModelInferAsync(SecurityTests.InferRequest(row), new Metadata { { "x-target", "stable" } });
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(infer.RawOutputContents[0].Span).ToArray();
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), values);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
