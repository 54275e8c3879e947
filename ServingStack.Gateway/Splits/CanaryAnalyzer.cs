using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Splits;

/// <summary>
/// Tumbling windows (<see cref="CanaryAnalysisOptions.WindowSeconds"/>, on <see cref="TimeProvider"/>) of error rate and
/// p99 latency per model and target. At each window's end every canary with enough requests is compared with its stable
/// target; after <see cref="CanaryAnalysisOptions.ConsecutiveWindows"/> bad windows in a row its weight goes to 0 (which
/// stops its promotion). With a <see cref="PromotionOptions"/>, after <see cref="PromotionOptions.HealthyWindows"/>
/// healthy windows in a row, each with enough requests, at unchanged weights, the canary moves to its next step.
/// </summary>
public sealed partial class CanaryAnalyzer : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<(string Model, string Target), TargetWindow> _windows = new();
    private readonly ConcurrentDictionary<(string Model, string Target), int> _badWindows = new();

    // Healthy windows in a row, counted against one split snapshot: any change of the split starts the count again.
    private readonly ConcurrentDictionary<(string Model, string Target), (ModelSplit Split, int Count)> _healthyWindows = new();
    private readonly SplitRegistry _registry;
    private readonly CanaryMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly CanaryAnalysisOptions _options;
    private readonly ILogger<CanaryAnalyzer> _logger;
    private ITimer? _timer;

    public CanaryAnalyzer(SplitRegistry registry, CanaryMetrics metrics, TimeProvider time, IOptions<GatewayOptions> options, ILogger<CanaryAnalyzer> logger)
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
                    // Too little traffic to judge: no rollback, and no evidence for a promotion step either.
                    _healthyWindows.TryRemove(key, out _);
                    continue;
                }

                var reason = Judge(stats, stable);
                if (reason is null)
                {
                    _badWindows[key] = 0;
                    Advance(split, canary);
                    continue;
                }

                _healthyWindows.TryRemove(key, out _);
                var bad = _badWindows.AddOrUpdate(key, 1, (_, n) => n + 1);
                LogUnhealthyWindow(split.Model, canary.Name, bad, reason);
                if (bad >= _options.ConsecutiveWindows)
                {
                    var why = $"{bad} consecutive windows of {_options.WindowSeconds} s: {reason}";
                    if (_registry.RollBack(split.Model, canary.Name, why))
                    {
                        _metrics.RecordRollback(split.Model, canary.Name);
                        LogRolledBack(split.Model, canary.Name, why);
                        if (split.Promotion is { Status: PromotionStatus.Progressing or PromotionStatus.Paused } promotion && promotion.Canary == canary.Name)
                        {
                            LogPromotionStopped(split.Model, canary.Name, (int)Math.Round(split.PercentOf(canary)));
                        }
                    }

                    _badWindows[key] = 0;
                }
            }
        }
    }

    /// <summary>Counts a healthy window of a canary under promotion and takes the next step after enough of them.</summary>
    private void Advance(ModelSplit split, SplitTarget canary)
    {
        if (split.Promotion is not { Status: PromotionStatus.Progressing } promotion || promotion.Canary != canary.Name)
        {
            return;
        }

        var key = (split.Model, canary.Name);
        var streak = _healthyWindows.AddOrUpdate(key, _ => (split, 1), (_, s) => ReferenceEquals(s.Split, split) ? (split, s.Count + 1) : (split, 1));
        if (streak.Count < promotion.HealthyWindows)
        {
            LogHealthyWindow(split.Model, canary.Name, streak.Count, promotion.HealthyWindows);
            return;
        }

        _healthyWindows.TryRemove(key, out _);
        if (_registry.Promote(split) is not { } step)
        {
            return;
        }

        _metrics.RecordPromotionStep(step.Model, step.Canary, step.To);
        LogPromoted(step.Model, step.Canary, step.From, step.To, streak.Count);
        if (step.Completed)
        {
            _metrics.RecordPromotionCompleted(step.Model, step.Canary);
            LogPromotionCompleted(step.Model, step.Canary);
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

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Canary {Target} of model {Model} promoted from {From}% to {To}% after {Windows} healthy windows")]
    private partial void LogPromoted(string model, string target, int from, int to, int windows);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Promotion of canary {Target} of model {Model} complete: it takes 100% of the traffic")]
    private partial void LogPromotionCompleted(string model, string target);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Promotion of canary {Target} of model {Model} stopped at {Percent}% by the rollback")]
    private partial void LogPromotionStopped(string model, string target, int percent);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "Canary {Target} of model {Model} healthy ({Count} of {Needed} windows for the next promotion step)")]
    private partial void LogHealthyWindow(string model, string target, int count, int needed);
}
