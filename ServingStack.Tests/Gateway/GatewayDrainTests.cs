using System.Net;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.Hosting;

namespace ServingStack.Tests.Gateway;

/// <summary>The gateway's drain (ServiceDefaults' ConnectionDrain): on stop, keep-alive clients are asked to reconnect before the listeners close.</summary>
public sealed class GatewayDrainTests
{
    [Fact]
    public async Task On_stop_the_gateway_serves_for_the_drain_delay_and_every_response_asks_its_client_to_reconnect()
    {
        var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["ConnectionDrain:DelaySeconds"] = "5" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new RawHttp1Client();
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.Address.Port), timeout.Token);
        var before = await client.SendAsync("GET", "/alive", [], timeout.Token);
        Assert.Equal(200, before.Status);
        Assert.False(before.ConnectionClose);

        var stopping = gateway.DisposeAsync().AsTask();
        Http1Response? during = null;
        await Eventually.TrueAsync(async () =>
        {
            // Same keep-alive connection until the gateway says to close it.
            during = await client.SendAsync("GET", "/alive", [], timeout.Token);
            return during.ConnectionClose;
        }, "a response asking the client to reconnect");

        Assert.Equal(200, during!.Status);
        Assert.False(stopping.IsCompleted, "the listeners closed before the drain delay ended");
        await stopping;
    }
}
