using Xunit.Abstractions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Every call of <c>grpc-corpus.json</c> (Open Inference and TF Serving PredictionService/ModelService: bad specs,
/// names, dtypes, shapes, contents, outputs, and raw malformed frames and protobuf) gets its status, never UNKNOWN or
/// INTERNAL, with a message naming the problem; afterwards the server still answers correctly within the memory bound.
/// </summary>
[Collection(HostileServerCollection.Name)]
public sealed class GrpcHostileCorpusTests(HostileServerFixture fixture, ITestOutputHelper output)
{
    private const long MemoryBound = 300L * 1024 * 1024;

    [Fact]
    public async Task Every_corpus_call_gets_its_status_and_message_and_the_server_stays_correct_and_bounded()
    {
        var corpus = HostileGrpcCall.Load("grpc-corpus.json");
        var failures = new List<string>();
        foreach (var call in corpus)
        {
            if (await HostileCorpusRunner.CheckGrpcAsync(fixture.Server.GrpcAddress, call, throughGateway: false) is { } problem)
            {
                failures.Add($"{call.Name}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        await fixture.AssertServesMnistAsync();
        await fixture.AssertServesMnistOverGrpcAsync();
        var growth = fixture.PeakResidentBytes() - fixture.BaselinePeakBytes;
        output.WriteLine($"peak resident memory grew by {growth / (1024 * 1024)} MiB over {corpus.Count} calls");
        Assert.True(growth < MemoryBound, $"peak resident memory grew by {growth / (1024 * 1024)} MiB (bound {MemoryBound / (1024 * 1024)} MiB)");
    }
}
