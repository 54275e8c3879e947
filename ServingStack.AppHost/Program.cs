var builder = DistributedApplication.CreateBuilder(args);

// The demo model repository committed at the repository root: MNIST-shaped MLP versions 1 (stable) and 2 (canary).
var modelConfig = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "models", "models.config"));

builder.AddProject<Projects.ServingStack_Inference>("inference")
    .WithArgs($"--model_config_file={modelConfig}")
    .WithHttpEndpoint(name: "rest", port: 8501, env: "Serving__RestApiPort")
    .WithHttpEndpoint(name: "grpc", port: 8500, env: "Serving__Port")
    .WithEndpoint("grpc", endpoint => endpoint.Transport = "http2")
    .WithHttpHealthCheck("/ready", endpointName: "rest");

builder.Build().Run();
