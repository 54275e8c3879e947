using ServingStack.Gateway.Routing;

namespace ServingStack.Tests.Gateway;

/// <summary>The copy of a forwarded body that lets a failed request be sent again, and which requests may be.</summary>
public sealed class ReplayableRequestBodyTests
{
    [Fact]
    public async Task A_body_read_in_pieces_is_replayed_whole_then_the_rest_follows()
    {
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        using var body = new ReplayableRequestBody(new MemoryStream(bytes), copyLimit: 20_000);
        Assert.True(body.Untouched);
        var first = new byte[3_000];
        var read = await ReadAtLeastAsync(body, first, 2_500);
        Assert.False(body.Untouched);
        Assert.True(body.CanReplay);

        body.Rewind();
        var replayed = new MemoryStream();
        await body.CopyToAsync(replayed);
        Assert.Equal(bytes, replayed.ToArray());
        Assert.True(read >= 2_500);
    }

    [Fact]
    public async Task A_body_over_the_copy_limit_cannot_be_replayed_but_is_still_read_whole()
    {
        var bytes = new byte[5_000];
        Random.Shared.NextBytes(bytes);
        using var body = new ReplayableRequestBody(new MemoryStream(bytes), copyLimit: 4_096);
        var all = new MemoryStream();
        await body.CopyToAsync(all, 1024);
        Assert.Equal(bytes, all.ToArray());
        Assert.False(body.CanReplay);
        Assert.Throws<InvalidOperationException>(body.Rewind);

        // With no copy at all, only an untouched body may go again.
        using var unsafeBody = new ReplayableRequestBody(new MemoryStream(bytes), copyLimit: 0);
        Assert.True(unsafeBody.Untouched && unsafeBody.CanReplay);
        Assert.Equal(1, await unsafeBody.ReadAsync(new byte[1]));
        Assert.False(unsafeBody.CanReplay);
    }

    [Theory]
    [InlineData("POST", "/v1/models/m:predict", true)]
    [InlineData("POST", "/v1/models/m/labels/canary:classify", true)]
    [InlineData("POST", "/v1/models/m/versions/2:regress", true)]
    [InlineData("POST", "/v2/models/m/versions/2/infer", true)]
    [InlineData("GET", "/v2/models/m/ready", true)]
    [InlineData("POST", "/v2/repository/index", true)]
    [InlineData("POST", "/v2/repository/models/m/load", false)]
    [InlineData("POST", "/v2/repository/models/m/unload", false)]
    [InlineData("POST", "/v1/models/m:reload", false)]
    [InlineData("POST", "/inference.GRPCInferenceService/ModelInfer", true)]
    [InlineData("POST", "/inference.GRPCInferenceService/ServerReady", true)]
    [InlineData("POST", "/inference.GRPCInferenceService/RepositoryModelLoad", false)]
    [InlineData("POST", "/tensorflow.serving.PredictionService/Predict", true)]
    [InlineData("POST", "/tensorflow.serving.ModelService/GetModelStatus", true)]
    [InlineData("POST", "/tensorflow.serving.ModelService/HandleReloadConfigRequest", false)]
    public void Only_reads_and_inference_may_reach_a_server_twice(string method, string path, bool expected) =>
        Assert.Equal(expected, ReplaySafety.MaySendTwice(method, path));

    private static async Task<int> ReadAtLeastAsync(Stream stream, byte[] buffer, int minimum)
    {
        var total = 0;
        while (total < minimum)
        {
            // Small reads, as a forwarder's copy loop makes them.
            var read = await stream.ReadAsync(buffer.AsMemory(total, Math.Min(700, buffer.Length - total)));
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
