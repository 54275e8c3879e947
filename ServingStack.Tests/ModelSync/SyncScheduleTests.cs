using ServingStack.ModelSync.Sync;

namespace ServingStack.Tests.ModelSync;

public sealed class SyncScheduleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    [Fact]
    public void After_a_success_the_interval_is_jittered_by_at_most_20_percent()
    {
        Assert.Equal(TimeSpan.FromSeconds(24), SyncSchedule.NextDelay(Interval, 0, 0.0));
        Assert.Equal(TimeSpan.FromSeconds(30), SyncSchedule.NextDelay(Interval, 0, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(34.8), SyncSchedule.NextDelay(Interval, 0, 0.9));

        // Many replicas polling one bucket spread over the whole ±20% band.
        var random = new Random(1);
        var delays = Enumerable.Range(0, 1000).Select(_ => SyncSchedule.NextDelay(Interval, 0, random.NextDouble()).TotalSeconds).ToList();
        Assert.All(delays, d => Assert.InRange(d, 24, 36));
        Assert.True(delays.Min() < 25 && delays.Max() > 35, $"jitter did not spread: {delays.Min()}..{delays.Max()}");
    }

    [Fact]
    public void Failures_back_off_exponentially_up_to_a_cap()
    {
        var hour = TimeSpan.FromHours(1);
        var delays = Enumerable.Range(1, 12).Select(n => SyncSchedule.BaseDelay(hour, n).TotalSeconds).ToList();
        Assert.Equal([2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300], delays);

        // Jitter applies to the backoff too.
        Assert.Equal(TimeSpan.FromSeconds(6.4), SyncSchedule.NextDelay(hour, 3, 0.0));
        Assert.Equal(TimeSpan.FromSeconds(9.6), SyncSchedule.NextDelay(hour, 3, 1.0));

        // Many failures in a row never overflow.
        Assert.Equal(SyncSchedule.MaxBackoff, SyncSchedule.BaseDelay(hour, int.MaxValue));
    }

    [Fact]
    public void A_failing_pass_is_never_retried_later_than_a_healthy_one_polls()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), SyncSchedule.BaseDelay(TimeSpan.FromSeconds(5), 10));
        Assert.Equal(TimeSpan.FromSeconds(2), SyncSchedule.BaseDelay(TimeSpan.FromSeconds(5), 1));
    }
}
