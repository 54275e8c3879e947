using ServingStack.Gateway.Splits;

namespace ServingStack.Tests.Gateway;

/// <summary>The canary window's lock-free counts and bucketed p99, against counts and a sorted list kept beside it.</summary>
public sealed class TargetWindowTests
{
    [Fact]
    public void Drain_counts_every_request_and_error_and_its_p99_is_within_one_sixteenth_above_the_exact_p99()
    {
        var window = new TargetWindow();
        var random = new Random(7);
        var latencies = new List<double>();
        var errors = 0;
        for (var i = 0; i < 5_000; i++)
        {
            // 0.5 µs to about 3 s, spread over the octaves.
            var seconds = Math.Pow(10, -6.3 + (random.NextDouble() * 6.8));
            var error = random.Next(10) == 0;
            errors += error ? 1 : 0;
            latencies.Add(seconds);
            window.Add(error, seconds);
        }

        Assert.Equal(5_000, window.Count);
        var stats = window.Drain();
        latencies.Sort();
        var exact = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        Assert.Equal(5_000, stats.Requests);
        Assert.Equal(errors, stats.Errors);
        Assert.InRange(stats.P99, exact, Math.Max(exact * 17 / 16, exact + 1e-6));
        Assert.Equal(0, window.Count);
        Assert.Equal(default, window.Drain());
    }

    [Fact]
    public void Concurrent_adds_are_all_counted()
    {
        var window = new TargetWindow();
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                window.Add(error: i % 4 == 0, seconds: 0.001 * (worker + 1));
            }
        });

        var stats = window.Drain();
        Assert.Equal(80_000, stats.Requests);
        Assert.Equal(20_000, stats.Errors);
        // 1 % of the requests are the slowest worker's (8 ms): the 99th percentile is in 8 ms's bucket.
        Assert.InRange(stats.P99, 0.008, 0.008 * 17 / 16);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.000_000_4)]
    [InlineData(0.000_015)]
    [InlineData(0.000_016)]
    [InlineData(0.000_033)]
    [InlineData(0.25)]
    [InlineData(3_600.0)]
    public void A_latency_lies_in_its_bucket_below_the_bucket_upper_edge(double seconds)
    {
        var bucket = TargetWindow.BucketOf(seconds);
        Assert.True(TargetWindow.UpperEdgeSeconds(bucket) > seconds);
        Assert.True(bucket == 0 || TargetWindow.UpperEdgeSeconds(bucket - 1) <= seconds + 1e-12);
    }
}
