using System.Diagnostics;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// The server's own spans (batch execution), beside ASP.NET Core's request spans. Named after the assembly, which is the
/// application name ServiceDefaults subscribes to, so nothing else has to be registered.
/// </summary>
public static class ServingTracing
{
    public static readonly ActivitySource Source = new(typeof(ServingTracing).Assembly.GetName().Name!);
}
