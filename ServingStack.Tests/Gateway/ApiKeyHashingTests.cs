using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>API keys are hashed once and compared against the presented key's hash, whatever their length.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ApiKeyHashingTests(GatewayServersFixture servers)
{
    // Longer than the handler's stack buffer, so hashed through a pooled one.
    private static readonly string LongKey = "long-" + new string('k', 400) + "-end";
    private const string ShortKey = "short-key-0123456789";

    [Fact]
    public async Task A_long_key_is_accepted_beside_a_short_one_and_a_key_that_differs_only_at_its_end_gets_401()
    {
        var settings = servers.Settings();
        settings["Gateway:Auth:ApiKeys:long"] = LongKey;
        settings["Gateway:Auth:ApiKeys:short"] = ShortKey;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 31)[0];

        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", LongKey))).Status);
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("Authorization", "ApiKey " + LongKey))).Status);
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", ShortKey))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", LongKey[..^1] + "x"))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", LongKey[..^1]))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", ShortKey + LongKey))).Status);
    }
}
