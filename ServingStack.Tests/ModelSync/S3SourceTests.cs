using Amazon.S3;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Sources;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>Against a real S3-compatible server (s3rver from npm), as the sidecar meets MinIO, Ceph or S3 itself.</summary>
[Collection(InProcessSidecars.Name)]
public sealed class S3SourceTests : IClassFixture<S3Server>, IDisposable
{
    private readonly S3Server _s3;
    private readonly TempModelRepository _target = new();

    public S3SourceTests(S3Server s3) => _s3 = s3;

    public void Dispose() => _target.Dispose();

    private Dictionary<string, string> Credentials(bool endpointVariable) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_ENDPOINT_URL_S3"] = endpointVariable ? _s3.Endpoint.ToString() : string.Empty,
        // Never reach for instance metadata on a test machine.
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    [Fact]
    public async Task An_s3_prefix_syncs_through_the_standard_AWS_variables_verified_by_etag()
    {
        var bucket = await _s3.CreateBucketAsync();
        var v1 = SyncHarness.Mlp(1);
        var v2 = SyncHarness.Mlp(2);
        await _s3.PutAsync(bucket, "prod/models/mnist/1/model.onnx", v1);
        await _s3.PutAsync(bucket, "prod/models/mnist/2/model.onnx", v2);
        await _s3.PutAsync(bucket, "prod/models/mnist/2/assets/labels.txt", "a\nb\n"u8.ToArray());
        await _s3.PutAsync(bucket, "prod/models/NOTES.txt", "not a model"u8.ToArray());
        await _s3.PutAsync(bucket, "staging/models/mnist/3/model.onnx", SyncHarness.Mlp(3));

        await using var sync = await ModelSyncProcess.RunAsync(Credentials(endpointVariable: true), SyncHarness.ProcessTimeout,
            "--source", $"s3://{bucket}/prod/models", "--target", _target.Root, "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Complete, $"{sync}\n--- s3rver ---\n{_s3.Output}");
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 2, v2);
        SyncHarness.AssertPublished(_target.Root, "mnist", 2, "a\nb\n"u8.ToArray(), "assets/labels.txt");
        Assert.Equal([1, 2], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        // s3rver serves single-part MD5 ETags: that is what vouched for every byte.
        Assert.DoesNotContain("only its size can be checked", sync.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupted_object_is_never_published()
    {
        var bucket = await _s3.CreateBucketAsync();
        var v1 = SyncHarness.Mlp(1);
        var v2 = SyncHarness.Mlp(2);
        await _s3.PutAsync(bucket, "mnist/1/model.onnx", v1);
        await _s3.PutAsync(bucket, "mnist/2/model.onnx", v2);

        // Bit rot on the storage server: same size, one byte flipped under the object's recorded ETag (its upload MD5).
        var stored = _s3.ObjectFile(bucket, "mnist/2/model.onnx");
        Assert.True(File.Exists(stored), $"s3rver did not keep the object at {stored}");
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(stored, bytes);

        // This time the endpoint comes from the flag.
        await using var sync = await ModelSyncProcess.RunAsync(Credentials(endpointVariable: false), SyncHarness.ProcessTimeout,
            "--source", $"s3://{bucket}", "--target", _target.Root, "--s3-endpoint", _s3.Endpoint.ToString(), "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains("checksum_mismatch: mnist/2/model.onnx: MD5 mismatch", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains(SyncHarness.Md5(bytes), sync.StdErr, StringComparison.Ordinal);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        Assert.Equal([1], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task Wrong_credentials_fail_with_a_clear_message()
    {
        var bucket = await _s3.CreateBucketAsync();
        await _s3.PutAsync(bucket, "mnist/1/model.onnx", SyncHarness.Mlp(1));
        using var client = new AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("WRONGKEY", S3Server.SecretKey),
            S3ModelSource.CreateConfig(_s3.Endpoint.ToString(), _ => null, out var endpoint));
        var source = new S3ModelSource(client, bucket, string.Empty, endpoint);

        var (report, _) = await SyncHarness.SyncAsync([$"--source=s3://{bucket}", $"--target={_target.Root}"], source);

        var problem = Assert.Single(report.Problems);
        Assert.Equal(ServingStack.ModelSync.Sync.SyncProblemKind.ListingFailed, problem.Kind);
        Assert.Contains("InvalidAccessKeyId", problem.Message, StringComparison.Ordinal);
        Assert.Contains("check the AWS credentials", problem.Message, StringComparison.Ordinal);
        Assert.Empty(SyncHarness.Versions(_target.Root, "mnist"));
    }

    [Fact]
    public void Endpoints_come_from_the_flag_then_the_standard_variables()
    {
        var variables = new Dictionary<string, string?> { ["AWS_ENDPOINT_URL"] = "http://general:1", ["AWS_ENDPOINT_URL_S3"] = "http://s3-specific:2" };
        var config = S3ModelSource.CreateConfig("http://flag:3", variables.GetValueOrDefault, out var endpoint);
        Assert.Equal("http://flag:3", endpoint);
        Assert.True(config.ForcePathStyle);

        S3ModelSource.CreateConfig(null, variables.GetValueOrDefault, out endpoint);
        Assert.Equal("http://s3-specific:2", endpoint);

        variables.Remove("AWS_ENDPOINT_URL_S3");
        S3ModelSource.CreateConfig(null, variables.GetValueOrDefault, out endpoint);
        Assert.Equal("http://general:1", endpoint);

        // Without any, AWS itself, virtual-hosted.
        config = S3ModelSource.CreateConfig(null, _ => null, out endpoint);
        Assert.Null(endpoint);
        Assert.False(config.ForcePathStyle);
    }
}
