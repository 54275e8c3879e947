using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Hosting;

/// <summary>Builds the whole gateway; Program.cs runs it and tests start it on loopback ports.</summary>
public static class GatewayApp
{
    /// <summary>The name configuration errors are reported under.</summary>
    public const string ProcessName = "ServingStack.Gateway";

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddServiceDefaults();
        // On SIGTERM responses ask keep-alive clients (an ingress's upstream pool) to reconnect, for
        // ConnectionDrain:DelaySeconds before the listeners close.
        builder.AddConnectionDrain(beginOnStop: true);
        builder.AddGateway();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Every ValidateOnStart check now, together: mapping reads some options, and one failing there alone would
        // hide the others' problems.
        app.Services.GetService<IStartupValidator>()?.Validate();
        app.UseConnectionDrain();
        app.MapDefaultEndpoints();
        app.MapGateway();
        return app;
    }
}
