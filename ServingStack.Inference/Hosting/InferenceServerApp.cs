namespace ServingStack.Inference.Hosting;

/// <summary>Builds the whole server; Program.cs runs it and tests start it on a loopback port.</summary>
public static class InferenceServerApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json beside the binary, wherever the server is started from (paths in flags still resolve
        // against the working directory, as tensorflow_model_server's do).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
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
