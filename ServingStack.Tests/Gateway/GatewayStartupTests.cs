using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>The gateway process refusing a bad configuration: exit 1, every problem on stderr, no stack trace.</summary>
public sealed class GatewayStartupTests
{
    private const string Project = "ServingStack.Gateway";
    private static readonly TimeSpan Exit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_bad_configuration_exits_1_listing_every_problem_without_a_stack_trace()
    {
        var run = await ProcessRun.RunAsync(Project, new Dictionary<string, string>
        {
            ["Gateway__AdminApiKey"] = "short",
            ["Gateway__RestPort"] = "-5",
            ["ConnectionDrain__DelaySeconds"] = "-1",
        }, Exit);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith("ServingStack.Gateway: invalid configuration:", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("Gateway:AdminApiKey must be at least 16 characters.", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("Gateway:RestPort must be within [0, 65535], not -5.", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("ConnectionDrain:DelaySeconds must be >= 0.", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_mounted_config_file_exits_1_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "servingstack-tests", Guid.NewGuid().ToString("N"), "gateway.json");
        var run = await ProcessRun.RunAsync(Project, new Dictionary<string, string> { ["SERVICE_CONFIG_FILES"] = missing }, Exit);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(missing, run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }
}
