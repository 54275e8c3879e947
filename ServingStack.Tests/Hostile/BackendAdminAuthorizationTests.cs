using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using ServingStack.Gateway.Security;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Gateway;
using ServingStack.Tests.Inference.TfServing;
using ServingStack.Tests.Inference.TfServing.Grpc;
using Tensorflow.Serving;
using ModelConfig = Tensorflow.Serving.ModelConfig;
using ModelServerConfig = Tensorflow.Serving.ModelServerConfig;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Through the gateway, the model servers' admin operations (Open Inference's repository index, load and unload over
/// REST; TF Serving's HandleReloadConfigRequest over gRPC) need the gateway's admin credential: an ordinary inference
/// credential is refused with 403 / PERMISSION_DENIED before the server sees the call, no credential with 401 /
/// UNAUTHENTICATED; the admin API key, a token with the admin role and an API key with the admin scope pass.
/// </summary>
public sealed class BackendAdminAuthorizationTests : IAsyncLifetime
{
    private const string BackendKey = "backend-admin-key-0123456789";
    private const string GatewayAdminKey = "gateway-admin-key-0123456789";
    private const string ClientKey = "client-key-0123456789abcdef";
    private const string OpsKey = "ops-key-0123456789abcdef";
    private const string AdminRole = "servingstack-admin";
    private const string Refusal = "the gateway admin credential is required";

    private static readonly string[] s_repositoryPaths = ["/v2/repository/index", "/v2/repository/models/mnist/unload", "/v2/repository/models/mnist/load"];

    private readonly TempModelRepository _repo = new();
    private readonly MlpWeights _weights = MlpWeights.Create(7);
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 7);
        var config = _repo.WriteConfig("models.json", """{ "model_config_list": [ { "name": "mnist", "base_path": "mnist" } ] }""");
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}", $"--Serving:AdminApiKey={BackendKey}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task Repository_calls_with_an_inference_credential_are_403_and_never_reach_the_server()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured());
        (string Name, string Value)[][] ordinary =
        [
            [("Authorization", "Bearer " + SecurityTokens.Mint("alice"))],
            [("Authorization", "Bearer " + SecurityTokens.Mint("bob", claims: ("role", "servingstack-override")))],
            [("X-Api-Key", ClientKey)],
            [("Authorization", "ApiKey " + ClientKey)],
        ];
        foreach (var path in s_repositoryPaths)
        {
            foreach (var headers in ordinary)
            {
                // The server's own admin key does not stand in for the gateway's credential.
                using var response = await PostAsync(gateway, path, [.. headers, ("X-Admin-Key", BackendKey)]);
                await AssertRefusedAsync(response, HttpStatusCode.Forbidden, $"{path} with {headers[0].Name}");
            }
        }

        // The unload above never happened: the model still serves, with the right numbers.
        await AssertPredictsAsync(gateway, ("X-Api-Key", ClientKey));
        Assert.DoesNotContain(_server.Models.Models, m => m.Unloaded);
    }

    [Fact]
    public async Task Repository_calls_without_a_credential_or_with_a_wrong_one_are_401_naming_the_admin_credential()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured());
        (string Name, string Value)[][] invalid =
        [
            [],
            [("X-Api-Key", "not-a-key-0123456789")],
            [("Authorization", "Bearer " + SecurityTokens.Mint("eve", key: SecurityTokens.OtherKey, claims: ("role", AdminRole)))],
            [("Authorization", "Bearer " + SecurityTokens.Mint("eve", lifetime: TimeSpan.FromMinutes(-5), notBefore: DateTime.UtcNow.AddMinutes(-20), claims: ("role", AdminRole)))],
        ];
        foreach (var path in s_repositoryPaths)
        {
            foreach (var headers in invalid)
            {
                using var response = await PostAsync(gateway, path, [.. headers, ("X-Admin-Key", BackendKey)]);
                await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, $"{path} with {(headers.Length == 0 ? "nothing" : headers[0].Name)}");
                Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "ApiKey");
            }
        }

        Assert.DoesNotContain(_server.Models.Models, m => m.Unloaded);
    }

    [Fact]
    public async Task The_admin_key_an_admin_token_and_an_admin_scoped_key_reach_the_repository_API()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured());
        (string Name, string Value)[][] admins =
        [
            [("X-Api-Key", GatewayAdminKey)],
            [("Authorization", "Bearer " + SecurityTokens.Mint("root", claims: ("role", AdminRole)))],
            [("Authorization", "Bearer " + SecurityTokens.Mint("root", claims: ("scope", "read " + AdminRole)))],
            [("X-Api-Key", OpsKey)],
        ];
        foreach (var headers in admins)
        {
            using (var index = await PostAsync(gateway, "/v2/repository/index", [.. headers, ("X-Admin-Key", BackendKey)]))
            {
                var text = await index.Content.ReadAsStringAsync();
                Assert.True(index.StatusCode == HttpStatusCode.OK, $"{headers[0].Name}: {text}");
                Assert.Equal("mnist", JsonNode.Parse(text)![0]!["name"]!.GetValue<string>());
            }

            using (var unload = await PostAsync(gateway, "/v2/repository/models/mnist/unload", [.. headers, ("X-Admin-Key", BackendKey)]))
            {
                Assert.True(unload.StatusCode == HttpStatusCode.OK, await unload.Content.ReadAsStringAsync());
            }

            Assert.Contains(_server.Models.Models, m => m.Name == "mnist" && m.Unloaded);
            using (var load = await PostAsync(gateway, "/v2/repository/models/mnist/load", [.. headers, ("X-Admin-Key", BackendKey)]))
            {
                Assert.True(load.StatusCode == HttpStatusCode.OK, await load.Content.ReadAsStringAsync());
            }

            await AssertPredictsAsync(gateway, ("X-Api-Key", ClientKey));
        }

        // Through the gateway the server still checks its own key.
        using var withoutBackendKey = await PostAsync(gateway, "/v2/repository/index", [("X-Api-Key", GatewayAdminKey)]);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutBackendKey.StatusCode);
        Assert.Contains("admin key", await withoutBackendKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleReloadConfigRequest_needs_the_admin_credential_while_GetModelStatus_takes_any()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured());
        var models = new ModelService.ModelServiceClient(gateway.GrpcChannel);
        var reload = Reload();

        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(reload, Headers(("authorization", "Bearer " + SecurityTokens.Mint("alice")))),
            StatusCode.PermissionDenied, Refusal, AdminRole);
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(reload, Headers(("x-api-key", ClientKey))), StatusCode.PermissionDenied, Refusal);
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(reload, Headers()), StatusCode.Unauthenticated, Refusal);
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(reload, Headers(("x-api-key", "wrong-0123456789"))), StatusCode.Unauthenticated, Refusal);

        // An ordinary caller may still read the status, and an admin may reload.
        var status = await models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "mnist" } }, Headers(("x-api-key", ClientKey)));
        Assert.Equal(ModelVersionStatus.Types.State.Available, status.ModelVersionStatus.Single().State);
        var reloaded = await models.HandleReloadConfigRequestAsync(reload, Headers(("authorization", "Bearer " + SecurityTokens.Mint("root", claims: ("role", AdminRole)))));
        Assert.Equal(Tensorflow.Error.Code.Ok, reloaded.Status.ErrorCode);
        reloaded = await models.HandleReloadConfigRequestAsync(reload, Headers(("x-api-key", GatewayAdminKey)));
        Assert.Equal(Tensorflow.Error.Code.Ok, reloaded.Status.ErrorCode);
    }

    [Fact]
    public async Task Without_client_credentials_inference_stays_open_but_admin_calls_need_the_admin_key_on_explicit_routes_too()
    {
        var settings = Clusters();
        settings["ReverseProxy:Routes:everything:ClusterId"] = "rest";
        settings["ReverseProxy:Routes:everything:Match:Path"] = "/{**all}";
        settings["ReverseProxy:Routes:tf-model:ClusterId"] = "grpc";
        settings["ReverseProxy:Routes:tf-model:Match:Path"] = "/tensorflow.serving.ModelService/{**rest}";
        settings["Gateway:AdminApiKey"] = GatewayAdminKey;
        settings["Gateway:AdminApiKeyHeader"] = "X-Gateway-Admin";
        await using var gateway = await GatewayHost.StartAsync(settings);

        await AssertPredictsAsync(gateway);
        using (var anonymous = await PostAsync(gateway, "/v2/repository/models/mnist/unload", [("X-Admin-Key", BackendKey)]))
        {
            await AssertRefusedAsync(anonymous, HttpStatusCode.Unauthorized, "anonymous unload");
            Assert.Contains("X-Gateway-Admin", JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        await AssertPredictsAsync(gateway);
        using (var admin = await PostAsync(gateway, "/v2/repository/index", [("X-Gateway-Admin", GatewayAdminKey), ("X-Admin-Key", BackendKey)]))
        {
            Assert.True(admin.StatusCode == HttpStatusCode.OK, await admin.Content.ReadAsStringAsync());
        }

        var models = new ModelService.ModelServiceClient(gateway.GrpcChannel);
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(), Headers()), StatusCode.Unauthenticated, Refusal);
        var reloaded = await models.HandleReloadConfigRequestAsync(Reload(), Headers(("x-gateway-admin", GatewayAdminKey)));
        Assert.Equal(Tensorflow.Error.Code.Ok, reloaded.Status.ErrorCode);
    }

    [Fact]
    public void Admin_routes_follow_the_most_specific_catch_all_and_leave_explicit_admin_routes_alone()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = "fallback",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**everything}",
            ["ReverseProxy:Routes:v2:ClusterId"] = "oi",
            ["ReverseProxy:Routes:v2:Match:Path"] = "/v2/{**rest}",
            ["ReverseProxy:Routes:v2:Match:Hosts:0"] = "models.example",
            ["ReverseProxy:Routes:mine:ClusterId"] = "x",
            ["ReverseProxy:Routes:mine:Match:Path"] = "/inference.GRPCInferenceService/RepositoryIndex",
            ["ReverseProxy:Routes:static:ClusterId"] = "y",
            ["ReverseProxy:Routes:static:Match:Path"] = "/v2/repository/index",
        }).Build();

        var routes = BackendAdminRoutes.Derive(configuration, []);

        Assert.All(routes, r => Assert.Equal(AuthSchemes.AdminPolicy, r.AuthorizationPolicy));
        Assert.Equal(
        [
            ("admin-v2-repository", "/v2/repository/{**rest}", "oi", "models.example"),
            ("admin-grpc-tf-model-reload", "/tensorflow.serving.ModelService/HandleReloadConfigRequest", "fallback", ""),
            ("admin-grpc-repository-load", "/inference.GRPCInferenceService/RepositoryModelLoad", "fallback", ""),
            ("admin-grpc-repository-unload", "/inference.GRPCInferenceService/RepositoryModelUnload", "fallback", ""),
        ], routes.Select(r => (r.RouteId, r.Match.Path!, r.ClusterId!, string.Join(",", r.Match.Hosts ?? []))));
    }

    private Dictionary<string, string?> Clusters() => new()
    {
        ["ReverseProxy:Clusters:rest:Destinations:a:Address"] = _server.Address.ToString(),
        ["ReverseProxy:Clusters:grpc:Destinations:a:Address"] = _server.GrpcAddress.ToString(),
        ["ReverseProxy:Clusters:grpc:HttpRequest:Version"] = "2",
        ["ReverseProxy:Clusters:grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact",
    };

    /// <summary>Routes derived from the default clusters; JWT, a client key, an admin-scoped key and the admin key.</summary>
    private Dictionary<string, string?> Secured()
    {
        var settings = Clusters();
        settings["Gateway:DefaultCluster"] = "rest";
        settings["Gateway:DefaultGrpcCluster"] = "grpc";
        settings["Gateway:AdminApiKey"] = GatewayAdminKey;
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer;
        settings["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience;
        settings["Gateway:Auth:ApiKeys:client"] = ClientKey;
        settings["Gateway:Auth:ApiKeys:ops"] = OpsKey;
        settings["Gateway:Auth:ApiKeyScopes:ops:0"] = AdminRole;
        return settings;
    }

    private ReloadConfigRequest Reload()
    {
        var list = new ModelConfigList();
        list.Config.Add(new ModelConfig { Name = "mnist", BasePath = _repo.ModelPath("mnist"), ModelPlatform = "tensorflow" });
        return new ReloadConfigRequest { Config = new ModelServerConfig { ModelConfigList = list } };
    }

    /// <summary>The gateway's credential and the server's own admin key (which the gateway passes on).</summary>
    private static Metadata Headers(params (string Name, string Value)[] headers)
    {
        var metadata = new Metadata { { "x-admin-key", BackendKey } };
        foreach (var (name, value) in headers)
        {
            metadata.Add(name, value);
        }

        return metadata;
    }

    private static async Task<HttpResponseMessage> PostAsync(GatewayHost gateway, string path, (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", new MediaTypeHeaderValue("application/json")) };
        foreach (var (name, value) in headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, value));
        }

        return await gateway.Client.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{what}: expected {expected} but got {response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!.GetValue<string>();
        Assert.Contains(Refusal, error, StringComparison.Ordinal);
        Assert.Contains(AdminRole, error, StringComparison.Ordinal);
    }

    private async Task AssertPredictsAsync(GatewayHost gateway, params (string Name, string Value)[] headers)
    {
        var row = GatewayClient.Rows(1, seed: 5)[0];
        var result = await GatewayClient.PredictAsync(gateway.Client, row, headers);
        Assert.True(result.Status == 200, result.Text);
        TfServingPredictTests.AssertClose(_weights.Evaluate(row), result.Prediction!);
    }
}
