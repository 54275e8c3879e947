using System.Globalization;
using Grpc.Core;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// A unary inference call's deadline, taken from its <c>grpc-timeout</c> header when the call arrived (an HTTP feature
/// set by <see cref="GrpcUnaryCallMiddleware"/>). The services bound the batch-queue wait by it; the client enforces it
/// on its side too and resets the stream when it passes, which cancels the call here.
/// </summary>
public sealed class GrpcCallDeadline(DateTimeOffset deadline, TimeSpan budget)
{
    /// <summary>The header's name; gRPC's wire format is 1 to 8 digits and a unit (H, M, S, m, u, n).</summary>
    public const string TimeoutHeader = "grpc-timeout";

    public DateTimeOffset Deadline { get; } = deadline;

    /// <summary>The timeout the client gave.</summary>
    public TimeSpan Budget { get; } = budget;

    /// <summary>The deadline of <paramref name="context"/>'s call, or null when the client set none.</summary>
    public static GrpcCallDeadline? Of(ServerCallContext context) => context.GetHttpContext().Features.Get<GrpcCallDeadline>();

    /// <summary>What is left of the budget (never negative).</summary>
    public TimeSpan Remaining(TimeProvider time)
    {
        var left = Deadline - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// Whether a call ending now ended because of its deadline. The client's own deadline fires a little before this
    /// one (the header counts from when it was sent, this deadline from when it arrived), so the last tenth of the
    /// budget, and at least 2 ms, counts as expired: a client reset then is the client's deadline, not a cancel.
    /// </summary>
    public bool HasExpired(TimeProvider time)
    {
        var margin = TimeSpan.FromTicks(Math.Max(Budget.Ticks / 10, TimeSpan.TicksPerMillisecond * 2));
        return time.GetUtcNow() >= Deadline - margin;
    }

    /// <summary>Parses a <c>grpc-timeout</c> value; false for anything malformed (gRPC then treats the call as having none).</summary>
    public static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (value is null || value.Length is < 2 or > 9 ||
            !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        // The largest value (99,999,999 hours) does not fit a TimeSpan; a day per call is more than any deadline needs.
        const long Cap = TimeSpan.TicksPerDay;
        long ticks = value[^1] switch
        {
            'H' => amount > Cap / TimeSpan.TicksPerHour ? Cap : amount * TimeSpan.TicksPerHour,
            'M' => amount > Cap / TimeSpan.TicksPerMinute ? Cap : amount * TimeSpan.TicksPerMinute,
            'S' => amount > Cap / TimeSpan.TicksPerSecond ? Cap : amount * TimeSpan.TicksPerSecond,
            'm' => Math.Min(Cap, amount * TimeSpan.TicksPerMillisecond),
            'u' => Math.Min(Cap, amount * 10),
            'n' => amount / 100,
            _ => -1,
        };
        if (ticks < 0)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }
}
