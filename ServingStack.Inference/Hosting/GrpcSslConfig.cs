using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Hosting;

/// <summary>
/// tensorflow_model_server's <c>--ssl_config_file</c>: an <c>SSLConfig</c> in protobuf text format (<c>server_key</c>,
/// <c>server_cert</c> as PEM text, optional <c>custom_ca</c>, <c>client_verify</c>) that puts TLS on the gRPC port.
/// With <c>client_verify</c> every client must present a certificate issued by <c>custom_ca</c> (or, without one, by a
/// root the system trusts), as gRPC's REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY does.
/// </summary>
public sealed class GrpcSslConfig
{
    private static readonly HashSet<string> s_fields = new(StringComparer.Ordinal) { "server_key", "server_cert", "custom_ca", "client_verify" };

    private GrpcSslConfig(X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2Collection? customCa, bool clientVerify)
    {
        Certificate = certificate;
        Chain = chain;
        CustomCa = customCa;
        ClientVerify = clientVerify;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Intermediate certificates sent after the server's own.</summary>
    public X509Certificate2Collection Chain { get; }

    public X509Certificate2Collection? CustomCa { get; }

    public bool ClientVerify { get; }

    /// <summary>Reads and checks the file; null (with every problem in <paramref name="errors"/>) when it cannot be used.</summary>
    public static GrpcSslConfig? Read(string path, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var where = $"--ssl_config_file '{path}'";
        JsonObject fields;
        try
        {
            fields = TextProtoParser.Parse(File.ReadAllText(path), new HashSet<string>(StringComparer.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            errors.Add($"{where}: {ex.Message}");
            return null;
        }

        var before = errors.Count;
        foreach (var (name, _) in fields)
        {
            if (!s_fields.Contains(name))
            {
                errors.Add($"{where}: unknown field '{name}' (SSLConfig has server_key, server_cert, custom_ca, client_verify)");
            }
        }

        var key = Text(fields, "server_key", where, errors);
        var cert = Text(fields, "server_cert", where, errors);
        var ca = fields["custom_ca"] is null ? null : Text(fields, "custom_ca", where, errors);
        var clientVerify = fields["client_verify"] is { } verify && verify.GetValueKind() == JsonValueKind.True;
        if (fields["client_verify"] is { } flag && flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add($"{where}: client_verify must be true or false");
        }

        if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(cert))
        {
            errors.Add($"{where}: server_key and server_cert (PEM text) are both required");
        }

        if (errors.Count > before)
        {
            return null;
        }

        X509Certificate2 certificate;
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(cert);
            certificate = X509Certificate2.CreateFromPem(cert, key);
        }
        catch (CryptographicException ex)
        {
            errors.Add($"{where}: server_cert and server_key are not a PEM certificate and its private key: {ex.Message}");
            return null;
        }

        X509Certificate2Collection? customCa = null;
        if (!string.IsNullOrWhiteSpace(ca))
        {
            customCa = [];
            try
            {
                customCa.ImportFromPem(ca);
            }
            catch (CryptographicException ex)
            {
                errors.Add($"{where}: custom_ca is not PEM certificates: {ex.Message}");
                return null;
            }

            if (customCa.Count == 0)
            {
                errors.Add($"{where}: custom_ca holds no certificate");
                return null;
            }
        }

        all.RemoveAt(0);
        return new GrpcSslConfig(certificate, all, customCa, clientVerify);
    }

    /// <summary>Kestrel's TLS settings for the gRPC listener.</summary>
    public HttpsConnectionAdapterOptions ToHttpsOptions() => new()
    {
        ServerCertificate = Certificate,
        ServerCertificateChain = Chain,
        ClientCertificateMode = ClientVerify ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
        ClientCertificateValidation = ClientVerify && CustomCa is not null ? IssuedByCustomCa : null,
    };

    private bool IssuedByCustomCa(X509Certificate2 certificate, X509Chain? chain, System.Net.Security.SslPolicyErrors errors)
    {
        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.AddRange(CustomCa!);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return verify.Build(certificate);
    }

    private static string? Text(JsonObject fields, string name, string where, List<string> errors)
    {
        if (fields[name] is not { } value)
        {
            return null;
        }

        if (value.GetValueKind() != JsonValueKind.String)
        {
            errors.Add($"{where}: {name} must be a string (PEM text)");
            return null;
        }

        return value.GetValue<string>();
    }
}
