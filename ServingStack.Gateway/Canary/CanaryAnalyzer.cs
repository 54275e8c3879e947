using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Canary;

/// <summary>
/// Tumbling windows (<see cref="CanaryAnalysisOptions.WindowSeconds"/>, on <see cref="TimeProvider"/>) of error rate and
/// p99 latency per model and target. At each window's end every canary with enough requests is compared with its stable
/// target; after <see cref="CanaryAnalysisOptions.ConsecutiveWindows"/> bad windows in a row its weight goes to 0.
/// </summary>
public sealed partial class CanaryAnalyzer : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<(string Model, string Target), TargetWindow> _windows = new();
    private readonly ConcurrentDictionary<(string Model, string Target), int> _badWindows = new();
    private readonly SplitRegistry _registry;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly CanaryAnalysisOptions _options;
    private readonly ILogger<CanaryAnalyzer> _logger;
    private ITimer? _timer;

    public CanaryAnalyzer(SplitRegistry registry, GatewayMetrics metrics, TimeProvider time, IOptions<GatewayOptions> options, ILogger<CanaryAnalyzer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _metrics = metrics;
        _time = time;
        _options = options.Value.CanaryAnalysis;
        _logger = logger;
    }

    public void Record(string model, string target, bool error, double seconds)
    {
        if (_options.Enabled)
        {
            _windows.GetOrAdd((model, target), _ => new TargetWindow()).Add(error, seconds);
        }
    }

    /// <summary>Requests recorded in the current window (tests wait for it before closing a window).</summary>
    internal int Pending(string model, string target) => _windows.TryGetValue((model, target), out var w) ? w.Count : 0;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            var period = TimeSpan.FromSeconds(_options.WindowSeconds);
            _timer = _time.CreateTimer(_ => CloseWindow(), null, period, period);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Ends the current window: evaluates every canary and starts fresh counts.</summary>
    internal void CloseWindow()
    {
        var closed = new Dictionary<(string Model, string Target), WindowStats>();
        foreach (var (key, window) in _windows)
        {
            closed[key] = window.Drain();
        }

        foreach (var split in _registry.All.Values)
        {
            var stable = closed.GetValueOrDefault((split.Model, split.Stable.Name));
            foreach (var canary in split.Targets.Where(t => !t.IsStable && t.Weight > 0))
            {
                var key = (split.Model, canary.Name);
                var stats = closed.GetValueOrDefault(key);
                if (stats.Requests < _options.MinRequests)
                {
                    continue;
                }

                var reason = Judge(stats, stable);
                if (reason is null)
                {
                    _badWindows[key] = 0;
                    continue;
                }

                var bad = _badWindows.AddOrUpdate(key, 1, (_, n) => n + 1);
                LogUnhealthyWindow(split.Model, canary.Name, bad, reason);
                if (bad >= _options.ConsecutiveWindows)
                {
                    var why = $"{bad} consecutive windows of {_options.WindowSeconds} s: {reason}";
                    if (_registry.RollBack(split.Model, canary.Name, why))
                    {
                        _metrics.RecordRollback(split.Model, canary.Name);
                        LogRolledBack(split.Model, canary.Name, why);
                    }

                    _badWindows[key] = 0;
                }
            }
        }
    }

    private string? Judge(WindowStats canary, WindowStats stable)
    {
        var stableRate = stable.Requests == 0 ? 0 : stable.ErrorRate;
        if (canary.ErrorRate > stableRate + _options.ErrorRateMargin)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"error rate {canary.ErrorRate:P1} of {canary.Requests} requests vs stable {stableRate:P1} (margin {_options.ErrorRateMargin:P1})");
        }

        if (stable.Requests >= _options.MinRequests && canary.P99 > stable.P99 * _options.LatencyFactor)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"p99 {canary.P99 * 1000:F1} ms vs stable {stable.P99 * 1000:F1} ms (factor {_options.LatencyFactor})");
        }

        return null;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Canary {Target} of model {Model} unhealthy ({Count} in a row): {Reason}")]
    private partial void LogUnhealthyWindow(string model, string target, int count, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Canary {Target} of model {Model} rolled back to weight 0: {Reason}")]
    private partial void LogRolledBack(string model, string target, string reason);
}
