using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;
using ServingStack.AppHost.Hosting;
using ServingStack.AppHost.Kubernetes;

namespace ServingStack.Tests.Kubernetes;

/// <summary>
/// Graphs other than the AppHost's, published in-process through the same publisher: switching on GPUs, S3 credentials
/// from a Secret, and graphs the publisher must refuse.
/// </summary>
public sealed class GraphVariantTests
{
    private static readonly KubernetesPublishSettings s_settings = new()
    {
        ImageRegistry = "registry.test/ml",
        ImageTag = "2.0.0",
        IngressHost = "ml.test",
        IngressTlsSecret = "ml-tls",
    };

    [Fact]
    public async Task Gpu_service_requests_whole_gpus_tolerates_their_taint_and_asks_the_server_for_cuda()
    {
        var builder = PublishBuilder();
        var sync = builder.AddModelSync("sync", localSource: ".");
        builder.AddInferenceService("gpu").WithModelSync(sync).WithModel("resnet", version: 3).WithGpu(2);

        var objects = await PublishAsync(builder);

        var pod = objects.OfType<V1Deployment>().Single().Spec.Template.Spec;
        var server = Assert.Single(pod.Containers);
        Assert.Equal("2", server.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("2", server.Resources.Requests["nvidia.com/gpu"].ToString());
        Assert.Contains("--execution_provider=cuda", server.Args);
        var toleration = Assert.Single(pod.Tolerations);
        Assert.Equal(("nvidia.com/gpu", "Exists", "NoSchedule"), (toleration.Key, toleration.OperatorProperty, toleration.Effect));
        // The sidecars need no GPU; the quota makes room for the GPUs at full scale plus a surge pod.
        Assert.All(pod.InitContainers, c => Assert.DoesNotContain("nvidia.com/gpu", c.Resources.Limits.Keys));
        Assert.Equal("4", objects.OfType<V1ResourceQuota>().Single().Spec.Hard["requests.nvidia.com/gpu"].ToString());
        Assert.Equal("registry.test/ml/servingstack-inference:2.0.0", server.Image);
    }

    [Fact]
    public async Task S3_credentials_come_from_the_named_secret_by_reference()
    {
        var builder = PublishBuilder();
        var sync = builder.AddModelSync("sync", localSource: ".").WithS3("http://minio.storage:9000", "model-bucket-keys");
        builder.AddInferenceService("cpu").WithModelSync(sync).WithModel("mnist");

        var objects = await PublishAsync(builder);

        var pod = objects.OfType<V1Deployment>().Single().Spec.Template.Spec;
        foreach (var sidecar in pod.InitContainers)
        {
            Assert.Contains(sidecar.Env, e => e.Name == "ModelSync__S3Endpoint" && e.Value == "http://minio.storage:9000");
            foreach (var key in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" })
            {
                var env = Assert.Single(sidecar.Env, e => e.Name == key);
                Assert.Null(env.Value);
                Assert.Equal(("model-bucket-keys", key), (env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key));
            }
        }

        Assert.DoesNotContain(objects, o => o is V1Secret);
        Assert.DoesNotContain(pod.Containers[0].Env ?? [], e => e.Name.StartsWith("AWS_", StringComparison.Ordinal));
        // No gateway in this graph: no gateway objects, no gateway peer in the network policy.
        Assert.DoesNotContain(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "gateway");
        Assert.All(objects.OfType<V1NetworkPolicy>().Single().Spec.Ingress, r => Assert.All(r.FromProperty, p => Assert.Null(p.PodSelector)));
        Assert.Empty(ManifestReferences.All(objects));
    }

    [Fact]
    public async Task Publishing_refuses_an_inference_service_without_a_model_sync()
    {
        var builder = PublishBuilder();
        builder.AddInferenceService("empty").WithModel("mnist");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PublishAsync(builder));
        Assert.Contains("'empty' has no model sync", error.Message);
    }

    [Fact]
    public async Task Publishing_refuses_resources_it_cannot_deploy()
    {
        var builder = PublishBuilder();
        var sync = builder.AddModelSync("sync", localSource: ".");
        builder.AddInferenceService("cpu").WithModelSync(sync).WithModel("mnist");
        builder.AddContainer("redis", "redis");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PublishAsync(builder));
        Assert.Contains("redis", error.Message);
    }

    private static IDistributedApplicationBuilder PublishBuilder() =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = ["--operation", "publish"], DisableDashboard = true });

    private static async Task<List<object>> PublishAsync(IDistributedApplicationBuilder builder)
    {
        var model = new DistributedApplicationModel(builder.Resources);
        var files = await KubernetesPublisher.GenerateAsync(model, builder.ExecutionContext, s_settings, CancellationToken.None);
        return [.. files.Where(f => !f.Path.Contains('/', StringComparison.Ordinal))
            .SelectMany(f => KubernetesYaml.LoadAllFromString(f.Content, KubernetesPublish.CustomTypes, strict: true))];
    }
}
