using System.Diagnostics;

namespace ServingStack.Tests.Fixtures;

/// <summary>Polls a condition until it holds or a deadline passes: synchronisation without sleeps of guessed length.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        await TrueAsync(() => Task.FromResult(condition()), what, timeout);
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds:F0} s waiting for {what}");
            }

            await Task.Delay(20);
        }
    }
}
