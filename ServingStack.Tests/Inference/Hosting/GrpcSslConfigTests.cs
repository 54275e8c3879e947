using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>tensorflow_model_server's <c>--ssl_config_file</c>: TLS on the gRPC port, and client certificates with <c>client_verify</c>.</summary>
public sealed class GrpcSslConfigTests : IDisposable
{
    private readonly TempModelRepository _repo = new();
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;

    public GrpcSslConfigTests()
    {
        var request = new CertificateRequest("CN=ServingStack test CA", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        _repo.Dispose();
    }

    [Fact]
    public async Task With_client_verify_the_grpc_port_speaks_tls_and_serves_only_clients_with_a_certificate_from_custom_ca()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        var (serverCert, serverKey) = Issue("CN=localhost", server: true);
        var config = _repo.WriteConfig("ssl.config", $"""
            server_key: "{Escape(serverKey.ExportPkcs8PrivateKeyPem())}"
            server_cert: "{Escape(serverCert.ExportCertificatePem())}"
            custom_ca: "{Escape(_ca.ExportCertificatePem())}"
            client_verify: true
            """);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}", $"--ssl_config_file={config}");
        var port = server.GrpcAddress.Port;

        var (clientCert, clientKey) = Issue("CN=client", server: false);
        using var withCertificate = clientCert.CopyWithPrivateKey(clientKey);
        Assert.True(await LiveAsync(port, withCertificate));

        var refused = await Assert.ThrowsAsync<RpcException>(() => LiveAsync(port, clientCertificate: null));
        // Under TLS 1.3 the server refuses the missing certificate after the client's handshake has finished, so the client
        // sees either a failed connection (UNAVAILABLE) or a stream cut before any response (INTERNAL), by timing.
        Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.ToString());

        // The plain-text gRPC of a server without the flag no longer answers on this port.
        using var plain = GrpcChannel.ForAddress(server.GrpcAddress);
        await Assert.ThrowsAsync<RpcException>(async () => await new GRPCInferenceService.GRPCInferenceServiceClient(plain).ServerLiveAsync(new ServerLiveRequest()));
    }

    [Fact]
    public async Task A_config_file_that_does_not_check_out_stops_the_start_naming_every_problem()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        var config = _repo.WriteConfig("ssl.config", """
            server_cert: "not a certificate"
            client_verfy: true
            """);

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            InferenceServer.StartAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}", $"--ssl_config_file={config}"));

        Assert.Contains(exception.Failures, f => f.Contains("unknown field 'client_verfy'", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("server_key and server_cert (PEM text) are both required", StringComparison.Ordinal));
    }

    private async Task<bool> LiveAsync(int port, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Trust exactly the test CA for the server's certificate.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(_ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return certificate is X509Certificate2 presented && chain.Build(presented);
                },
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            },
        };
        using var channel = GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions { HttpHandler = handler });
        var reply = await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ServerLiveAsync(new ServerLiveRequest());
        return reply.Live;
    }

    private (X509Certificate2 Certificate, ECDsa Key) Issue(string subject, bool server)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(8);
        var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), serial);
        return (certificate, key);
    }

    /// <summary>PEM text as a protobuf text-format string literal.</summary>
    private static string Escape(string pem) => pem.Replace("\n", "\\n", StringComparison.Ordinal);
}
