using Xunit.Abstractions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Every request of <c>rest-corpus.json</c> (bad JSON, wrong types, huge/negative/overflowing shapes, numbers out of
/// range, text that is not text, bad binary framing, bad headers and URLs, on /v1 and /v2) gets its 4xx with a
/// <c>{"error": "..."}</c> body naming the problem; afterwards the server still answers correctly and its peak memory
/// has not grown by more than the bound.
/// </summary>
[Collection(HostileServerCollection.Name)]
public sealed class RestHostileCorpusTests(HostileServerFixture fixture, ITestOutputHelper output)
{
    private const long MemoryBound = 300L * 1024 * 1024;

    [Fact]
    public async Task Every_corpus_request_gets_its_4xx_error_and_the_server_stays_correct_and_bounded()
    {
        var corpus = HostileRequest.Load("rest-corpus.json");
        Assert.True(corpus.Count >= 60, $"the corpus has {corpus.Count} requests");
        var failures = new List<string>();
        foreach (var request in corpus)
        {
            Assert.InRange(request.Status, 400, 499);
            if (await HostileCorpusRunner.CheckRestAsync(fixture.Server.RestAddress, request, throughGateway: false) is { } problem)
            {
                failures.Add($"{request.Name}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        await fixture.AssertServesMnistAsync();
        var growth = fixture.PeakResidentBytes() - fixture.BaselinePeakBytes;
        output.WriteLine($"peak resident memory grew by {growth / (1024 * 1024)} MiB over {corpus.Count} requests");
        Assert.True(growth < MemoryBound, $"peak resident memory grew by {growth / (1024 * 1024)} MiB (bound {MemoryBound / (1024 * 1024)} MiB)");
    }
}
