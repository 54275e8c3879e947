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
    /// The arguments are the defaults of four parameters, <c>image-registry</c>, <c>image-tag</c>, <c>ingress-host</c>
    /// and <c>ingress-tls-secret</c>, resolved at publish time: <c>--Parameters:image-tag=1.2.3</c> overrides one.
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
        var registryParameter = Parameter("image-registry", imageRegistry);
        var tagParameter = Parameter("image-tag", imageTag);
        var hostParameter = Parameter("ingress-host", ingressHost);
        var tlsParameter = Parameter("ingress-tls-secret", ingressTlsSecret);

#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004 // The pipeline API is marked experimental in Aspire 13.
        builder.Pipeline.AddStep(KubernetesPublisher.StepName, async context =>
        {
            var cancellationToken = context.CancellationToken;
            var settings = new KubernetesPublishSettings
            {
                Namespace = @namespace,
                ImageRegistry = await ValueAsync(registryParameter, cancellationToken),
                ImageTag = await ValueAsync(tagParameter, cancellationToken),
                IngressHost = await ValueAsync(hostParameter, cancellationToken),
                IngressTlsSecret = await ValueAsync(tlsParameter, cancellationToken),
            };
            var files = await KubernetesPublisher.GenerateAsync(context.Model, context.ExecutionContext, settings, cancellationToken);
            var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            await KubernetesPublisher.WriteAsync(output, files, cancellationToken);
            context.Logger.LogInformation("Wrote {Count} Kubernetes manifest files to {Output}", files.Count, output);
        }, dependsOn: WellKnownPipelineSteps.ProcessParameters, requiredBy: WellKnownPipelineSteps.Publish);
#pragma warning restore ASPIREPIPELINES001, ASPIREPIPELINES004

        return builder;

        IResourceBuilder<ParameterResource> Parameter(string name, string defaultValue)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(defaultValue, name);
            return builder.AddParameter(name, new OverridableParameterDefault(defaultValue));
        }
    }

    private static async Task<string> ValueAsync(IResourceBuilder<ParameterResource> parameter, CancellationToken cancellationToken) =>
        await parameter.Resource.GetValueAsync(cancellationToken)
            ?? throw new InvalidOperationException($"Parameter '{parameter.Resource.Name}' has no value; pass --Parameters:{parameter.Resource.Name}=...");
}
