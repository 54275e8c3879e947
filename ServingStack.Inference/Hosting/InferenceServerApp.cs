namespace ServingStack.Inference.Hosting;

/// <summary>Builds the whole server; Program.cs runs it and tests start it on a loopback port.</summary>
public static class InferenceServerApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServingCommandLine(args);
        builder.AddServiceDefaults();
        builder.AddInferenceServer();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapInferenceServer();
        return app;
    }
}
