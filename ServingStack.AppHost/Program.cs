using ServingStack.AppHost.Hosting;
//#if (kubernetes)
using ServingStack.AppHost.Kubernetes;
//#endif

var builder = DistributedApplication.CreateBuilder(args);

// Model versions come from the repository's models/ folder locally, and from the modelsync-source parameter
// (s3://, an HTTP index or a folder) when published.
var sync = builder.AddModelSync("modelsync", localSource: "../models")
    .WithInterval(TimeSpan.FromSeconds(10));

// Stable: version 1 of the MNIST-shaped sample, two replicas, dynamic batching.
var stable = builder.AddInferenceService("inference", restPort: 8501, grpcPort: 8500)
    .WithModelSync(sync)
    .WithModel("mnist", version: 1, label: "stable")
#if (resnet18)
    .WithModel("resnet18", version: 1, label: "stable")
#endif
#if (gpu)
    .WithGpu()
#endif
    .WithBatching(maxBatchSize: 32, batchTimeout: TimeSpan.FromMilliseconds(2))
    .WithReplicas(2)
    .WithAutoscaling(minReplicas: 2, maxReplicas: 8);

// Canary: version 2, one replica.
var canary = builder.AddInferenceService("inference-canary")
    .WithModelSync(sync)
    .WithModel("mnist", version: 2, label: "canary")
#if (resnet18)
    .WithModel("resnet18", version: 2, label: "canary")
#endif
#if (gpu)
    .WithGpu()
#endif
    .WithBatching(maxBatchSize: 32, batchTimeout: TimeSpan.FromMilliseconds(2));

// The gateway sends canaryWeight percent of mnist's traffic to the canary and rolls it back by itself if it misbehaves.
var gateway = builder.AddServingGateway("gateway", restPort: 8080, grpcPort: 8081)
    .WithSplit("mnist", stable, canary, canaryWeight: 10);
#if (resnet18)
gateway.WithSplit("resnet18", stable, canary, canaryWeight: 10);
#endif

//#if (kubernetes)
// Kubernetes manifests from this graph into deploy/k8s (the command is in README "Deploy to Kubernetes"). The
// arguments are defaults of parameters of the same names: --Parameters:image-tag=1.2.3 overrides one.
builder.AddKubernetesPublisher(imageRegistry: "localhost:5000/servingstack", imageTag: "0.1.0",
    ingressHost: "serving.example.com", ingressTlsSecret: "servingstack-tls");
//#endif

builder.Build().Run();
