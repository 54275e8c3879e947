using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;
using ServingStack.Gateway.Security;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Override headers are a permission: a JWT role or an API-key scope (or the admin's credential), off for anonymous and
/// ordinary clients; and a target whose weight was taken to 0 at run time is reached by an override only with the
/// admin's credential.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OverridePermissionTests(GatewayServersFixture servers)
{
    private const string PlainKey = "plain-client-key-0123456789";
    private const string TesterKey = "tester-client-key-0123456789";
    private const string AdminKey = "test-admin-key-0123456789";

    [Fact]
    public async Task Overrides_need_the_override_role_or_scope_and_are_ignored_for_other_clients()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured(100, 0));
        var row = GatewayClient.Rows(1, seed: 71)[0];

        // Ordinary credentials: the headers are ignored and the weights (100/0) decide.
        foreach (var credential in new[] { Bearer(SecurityTokens.Mint("eve")), Bearer(SecurityTokens.Mint("eve", claims: ("role", "reader"))), ("X-Api-Key", PlainKey) })
        {
            foreach (var header in new[] { ("X-Canary", "always"), ("X-Target", "canary") })
            {
                var (status, by, _, text) = await GatewayClient.PredictAsync(gateway.Client, row, credential, header);
                Assert.True(status == 200, text);
                Assert.True(by == "stable", $"{credential.Item1} {header}: served by {by}");
            }
        }

        // The override role (as a role or a scope entry) and an API key with the override scope may pick the dark canary.
        foreach (var credential in new[]
        {
            Bearer(SecurityTokens.Mint("tess", claims: ("role", "servingstack-override"))),
            Bearer(SecurityTokens.Mint("tess", claims: ("scope", "read servingstack-override"))),
            ("X-Api-Key", TesterKey),
        })
        {
            var (status, by, prediction, text) = await GatewayClient.PredictAsync(gateway.Client, row, credential, ("X-Canary", "always"));
            Assert.True(status == 200, text);
            Assert.Equal("canary", by);
            TfServingPredictTests.AssertClose(servers.CanaryWeights.Evaluate(row), prediction!);
            Assert.Equal("canary", (await GatewayClient.PredictAsync(gateway.Client, row, credential, ("X-Target", "canary"))).ServedBy);
        }
    }

    [Fact]
    public async Task Without_any_credential_configured_anonymous_overrides_are_off_unless_allowed()
    {
        var row = GatewayClient.Rows(1, seed: 72)[0];
        await using (var closed = await GatewayHost.StartAsync(servers.Settings(100, 0)))
        {
            Assert.Equal("stable", (await GatewayClient.PredictAsync(closed.Client, row, ("X-Canary", "always"))).ServedBy);
            Assert.Equal("stable", (await GatewayClient.PredictAsync(closed.Client, row, ("X-Target", "canary"))).ServedBy);
        }

        await using var open = await GatewayHost.StartAsync(servers.Settings(100, 0, anonymousOverrides: true));
        Assert.Equal("canary", (await GatewayClient.PredictAsync(open.Client, row, ("X-Canary", "always"))).ServedBy);
    }

    [Fact]
    public async Task After_an_admin_or_analysis_rollback_only_the_admins_credential_reaches_the_canary()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured(90, 10));
        var registry = gateway.Services.GetRequiredService<SplitRegistry>();
        var row = GatewayClient.Rows(1, seed: 73)[0];
        var tester = Bearer(SecurityTokens.Mint("tess", claims: ("role", "servingstack-override")));
        var admin = Bearer(SecurityTokens.Mint("root", claims: ("role", "servingstack-admin")));

        // The admin takes the canary out: 100/0.
        await PutWeightsAsync(gateway, 100, 0);
        Assert.NotNull(registry.Get("mnist")!.Find("canary")!.RolledBackAt);
        await AssertOnlyAdminReachesCanaryAsync();

        // Weight again re-opens it to overrides; then canary analysis rolls it back.
        await PutWeightsAsync(gateway, 90, 10);
        Assert.Equal("canary", (await GatewayClient.PredictAsync(gateway.Client, row, tester, ("X-Canary", "always"))).ServedBy);
        Assert.True(registry.RollBack("mnist", "canary", "test rollback"));
        await AssertOnlyAdminReachesCanaryAsync();

        async Task AssertOnlyAdminReachesCanaryAsync()
        {
            for (var i = 0; i < 5; i++)
            {
                foreach (var header in new[] { ("X-Canary", "always"), ("X-Target", "canary") })
                {
                    var refused = await GatewayClient.PredictAsync(gateway.Client, row, tester, header);
                    Assert.True(refused.Status == 200, refused.Text);
                    Assert.Equal("stable", refused.ServedBy);
                    var allowed = await GatewayClient.PredictAsync(gateway.Client, row, admin, header);
                    Assert.True(allowed.Status == 200, allowed.Text);
                    Assert.Equal("canary", allowed.ServedBy);
                    TfServingPredictTests.AssertClose(servers.CanaryWeights.Evaluate(row), allowed.Prediction!);
                }
            }
        }
    }

    [Fact]
    public async Task With_open_inference_the_admin_key_reaches_a_rolled_back_canary_and_anonymous_overrides_do_not()
    {
        var settings = servers.Settings(90, 10, anonymousOverrides: true);
        settings["Gateway:AdminApiKey"] = AdminKey;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 74)[0];
        await PutWeightsAsync(gateway, 100, 0);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Canary", "always"))).ServedBy);
            Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", AdminKey + "x"), ("X-Canary", "always"))).ServedBy);
            Assert.Equal("canary", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", AdminKey), ("X-Canary", "always"))).ServedBy);
        }
    }

    [Theory]
    [InlineData("Development", null, null, OverrideAccess.Override)]
    [InlineData("Production", null, null, OverrideAccess.None)]
    [InlineData("Testing", null, null, OverrideAccess.None)]
    [InlineData("Development", false, null, OverrideAccess.None)]
    [InlineData("Production", true, null, OverrideAccess.Override)]
    [InlineData("Production", null, AdminKey, OverrideAccess.Admin)]
    [InlineData("Production", true, AdminKey + "x", OverrideAccess.Override)]
    public async Task Anonymous_overrides_default_to_the_development_environment_only(string environment, bool? allow, string? key, OverrideAccess expected)
    {
        var gateway = new GatewayOptions { AdminApiKey = AdminKey };
        var security = new GatewaySecurityOptions();
        security.Auth.AllowAnonymousOverrides = allow;
        var authorizer = new OverrideAuthorizer(Options.Create(gateway), Options.Create(security), new HostingEnvironment { EnvironmentName = environment });
        var context = new DefaultHttpContext();
        if (key is not null)
        {
            context.Request.Headers["X-Api-Key"] = key;
        }

        Assert.Equal(expected, await authorizer.EvaluateAsync(context));
    }

    private Dictionary<string, string?> Secured(int stable, int canary)
    {
        var settings = servers.Settings(stable, canary);
        settings["Gateway:AdminApiKey"] = AdminKey;
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer;
        settings["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience;
        settings["Gateway:Auth:ApiKeys:plain"] = PlainKey;
        settings["Gateway:Auth:ApiKeys:tester"] = TesterKey;
        settings["Gateway:Auth:ApiKeyScopes:tester:0"] = "servingstack-override";
        return settings;
    }

    private static async Task PutWeightsAsync(GatewayHost gateway, int stable, int canary)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = JsonContent.Create(new { weights = new { stable, canary } }) };
        put.Headers.Add("X-Api-Key", AdminKey);
        using var response = await gateway.Client.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static (string, string) Bearer(string token) => ("Authorization", "Bearer " + token);
}
