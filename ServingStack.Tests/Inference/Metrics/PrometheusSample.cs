namespace ServingStack.Tests.Inference.Metrics;

/// <summary>One sample line of a Prometheus text page; <see cref="Text"/> is the value as printed.</summary>
public sealed record PrometheusSample(string Name, Dictionary<string, string> Labels, double Value, string Text);
