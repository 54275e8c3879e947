using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

public static class KubernetesPublisherExtensions
{
    /// <summary>
    /// Adds the <c>publish-kubernetes</c> pipeline step: <c>dotnet run --project ServingStack.AppHost -- --operation
    /// publish --step publish-kubernetes --output-path ../deploy/k8s</c> writes the graph's Kubernetes manifests there.
    /// The arguments are defaults of four settings, <c>Parameters:image-registry</c>, <c>Parameters:image-tag</c>,
    /// <c>Parameters:ingress-host</c> and <c>Parameters:ingress-tls-secret</c>, read from configuration at publish time:
    /// <c>--Parameters:image-tag=1.2.3</c> overrides one. They are not Aspire parameters: only this step uses them, and
    /// parameters would appear in aspire-manifest.json, where tools that deploy it ask for (or invent) their values.
    /// </summary>
    public static IDistributedApplicationBuilder AddKubernetesPublisher(
        this IDistributedApplicationBuilder builder,
        string imageRegistry,
        string imageTag,
        string ingressHost,
        string ingressTlsSecret,
        string @namespace = "servingstack")
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var registry = Setting("image-registry", imageRegistry);
        var tag = Setting("image-tag", imageTag);
        var host = Setting("ingress-host", ingressHost);
        var tls = Setting("ingress-tls-secret", ingressTlsSecret);

#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004 // The pipeline API is marked experimental in Aspire 13.
        builder.Pipeline.AddStep(KubernetesPublisher.StepName, async context =>
        {
            var cancellationToken = context.CancellationToken;
            var settings = new KubernetesPublishSettings
            {
                Namespace = @namespace,
                ImageRegistry = registry(),
                ImageTag = tag(),
                IngressHost = host(),
                IngressTlsSecret = tls(),
            };
            var files = await KubernetesPublisher.GenerateAsync(context.Model, context.ExecutionContext, settings, cancellationToken);
            var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            await KubernetesPublisher.WriteAsync(output, files, cancellationToken);
            context.Logger.LogInformation("Wrote {Count} Kubernetes manifest files to {Output}", files.Count, output);
        }, dependsOn: WellKnownPipelineSteps.ProcessParameters, requiredBy: WellKnownPipelineSteps.Publish);
#pragma warning restore ASPIREPIPELINES001, ASPIREPIPELINES004

        return builder;

        Func<string> Setting(string name, string defaultValue)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(defaultValue, name);
            return () => configuration[$"Parameters:{name}"] is { Length: > 0 } value ? value : defaultValue;
        }
    }
}
