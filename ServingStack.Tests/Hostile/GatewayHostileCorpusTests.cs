using System.Text;
using System.Text.RegularExpressions;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Gateway;
using Xunit.Abstractions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// The gateway in front of the hostile-input server: its own corpus (<c>gateway-corpus.json</c>: missing, wrong,
/// expired, forged and oversized credentials, header and body limits, admin-only operations with ordinary credentials,
/// override headers without permission) and both server corpora sent through it with a valid key. Every request gets
/// its 4xx (gRPC: its status, never UNKNOWN or INTERNAL) with a message; afterwards both still serve correctly.
/// </summary>
[Collection(HostileServerCollection.Name)]
public sealed partial class GatewayHostileCorpusTests(HostileServerFixture fixture, ITestOutputHelper output)
{
    private const string ClientKey = "hostile-client-key-0123456789";
    private const string AdminKey = "hostile-admin-key-0123456789";
    private const string OverrideRole = "servingstack-override";

    [Fact]
    public async Task The_gateway_corpus_gets_its_refusals_over_REST_and_gRPC()
    {
        await using var gateway = await StartGatewayAsync();
        var failures = new List<string>();
        var requests = HostileRequest.Load("gateway-corpus.json");
        foreach (var request in requests)
        {
            Assert.InRange(request.Status, 400, 499);
            var expanded = request with { Headers = request.Headers.ToDictionary(h => h.Key, h => Credentials(h.Value)) };
            if (await HostileCorpusRunner.CheckRestAsync(gateway.Address, expanded, throughGateway: true) is { } problem)
            {
                failures.Add($"{request.Name}: {problem}");
            }
        }

        var calls = HostileGrpcCall.Load("gateway-corpus.json");
        foreach (var call in calls)
        {
            var expanded = call with { Headers = call.Headers.ToDictionary(h => h.Key, h => Credentials(h.Value)) };
            if (await HostileCorpusRunner.CheckGrpcAsync(gateway.GrpcAddress, expanded, throughGateway: true) is { } problem)
            {
                failures.Add($"{call.Name}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        output.WriteLine($"{requests.Count} REST requests and {calls.Count} gRPC calls refused as stated");
        await AssertServesThroughAsync(gateway);
    }

    [Fact]
    public async Task The_server_corpora_get_the_same_answers_through_the_gateway()
    {
        await using var gateway = await StartGatewayAsync();
        var failures = new List<string>();
        foreach (var request in HostileRequest.Load("rest-corpus.json"))
        {
            if (await HostileCorpusRunner.CheckRestAsync(gateway.Address, request, throughGateway: true, ("X-Api-Key", ClientKey)) is { } problem)
            {
                failures.Add($"REST {request.Name}: {problem}");
            }
        }

        foreach (var call in HostileGrpcCall.Load("grpc-corpus.json"))
        {
            if (await HostileCorpusRunner.CheckGrpcAsync(gateway.GrpcAddress, call, throughGateway: true, ("x-api-key", ClientKey)) is { } problem)
            {
                failures.Add($"gRPC {call.Name}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        await AssertServesThroughAsync(gateway);
        await fixture.AssertServesMnistOverGrpcAsync();
    }

    private async Task<GatewayHost> StartGatewayAsync() => await GatewayHost.StartAsync(new Dictionary<string, string?>
    {
        ["ReverseProxy:Clusters:rest:Destinations:a:Address"] = fixture.Server.RestAddress.ToString(),
        ["ReverseProxy:Clusters:grpc:Destinations:a:Address"] = fixture.Server.GrpcAddress.ToString(),
        ["ReverseProxy:Clusters:grpc:HttpRequest:Version"] = "2",
        ["ReverseProxy:Clusters:grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
        ["Gateway:Splits:mnist:Targets:0:Cluster"] = "rest",
        ["Gateway:Splits:mnist:Targets:0:GrpcCluster"] = "grpc",
        ["Gateway:Splits:mnist:Targets:0:Weight"] = "100",
        ["Gateway:Splits:mnist:Targets:1:Name"] = "canary",
        ["Gateway:Splits:mnist:Targets:1:Cluster"] = "rest",
        ["Gateway:Splits:mnist:Targets:1:GrpcCluster"] = "grpc",
        ["Gateway:Splits:mnist:Targets:1:Version"] = "1",
        ["Gateway:Splits:mnist:Targets:1:Weight"] = "0",
        ["Gateway:DefaultCluster"] = "rest",
        ["Gateway:DefaultGrpcCluster"] = "grpc",
        ["Gateway:MaxRequestBodyBytes"] = HostileServerFixture.MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:AdminApiKey"] = AdminKey,
        ["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey,
        ["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer,
        ["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience,
        ["Gateway:Auth:ApiKeys:client"] = ClientKey,
    });

    private async Task AssertServesThroughAsync(GatewayHost gateway)
    {
        var row = GatewayClient.Rows(1, seed: 29)[0];
        var result = await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", ClientKey));
        Assert.True(result.Status == 200, result.Text);
        Inference.TfServing.TfServingPredictTests.AssertClose(fixture.Weights.Evaluate(row), result.Prediction!);
        await fixture.AssertServesMnistAsync();
    }

    [GeneratedRegex(@"\{\{(client-key|admin-key|jwt[a-z-]*)\}\}")]
    private static partial Regex Placeholder();

    /// <summary>The header value with its credential placeholders replaced by keys and freshly minted tokens.</summary>
    private static string Credentials(string value) => Placeholder().Replace(value, match => match.Groups[1].Value switch
    {
        "client-key" => ClientKey,
        "admin-key" => AdminKey,
        "jwt" => SecurityTokens.Mint("hostile"),
        "jwt-override" => SecurityTokens.Mint("hostile", claims: ("role", OverrideRole)),
        "jwt-expired" => SecurityTokens.Mint("hostile", lifetime: TimeSpan.FromMinutes(5), notBefore: DateTime.UtcNow.AddHours(-1)),
        "jwt-admin-expired" => SecurityTokens.Mint("hostile", lifetime: TimeSpan.FromMinutes(5), notBefore: DateTime.UtcNow.AddHours(-1), claims: ("role", "servingstack-admin")),
        "jwt-future" => SecurityTokens.Mint("hostile", notBefore: DateTime.UtcNow.AddHours(1)),
        "jwt-foreign" => SecurityTokens.Mint("hostile", key: SecurityTokens.OtherKey),
        "jwt-issuer" => SecurityTokens.Mint("hostile", issuer: "https://elsewhere.test"),
        "jwt-audience" => SecurityTokens.Mint("hostile", audience: "someone-else"),
        "jwt-none" => Unsigned(SecurityTokens.Mint("hostile"), """{"alg":"none","typ":"JWT"}"""),
        "jwt-unsigned" => Unsigned(SecurityTokens.Mint("hostile"), header: null),
        var other => throw new ArgumentException($"unknown placeholder {other}", nameof(value)),
    });

    /// <summary>A valid token's claims with its signature dropped, under <paramref name="header"/> when given.</summary>
    private static string Unsigned(string token, string? header)
    {
        var parts = token.Split('.');
        var head = header is null ? parts[0] : Convert.ToBase64String(Encoding.UTF8.GetBytes(header)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{head}.{parts[1]}.";
    }
}
