using ServingStack.ModelSync.Hosting;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>
/// The sync process refusing a bad configuration in either mode with its documented code
/// (<see cref="ModelSyncExitCodes.InvalidConfiguration"/>), every problem on stderr, no stack trace.
/// </summary>
public sealed class ModelSyncStartupTests
{
    [Fact]
    public async Task A_value_of_the_wrong_type_in_polling_mode_exits_with_the_invalid_configuration_code_naming_it()
    {
        var run = await ProcessRun.RunAsync("ServingStack.ModelSync", null, SyncHarness.ProcessTimeout,
            "--source=s3://bucket/models", "--target=/srv/models", "--keep=abc");

        Assert.True(run.ExitCode == ModelSyncExitCodes.InvalidConfiguration, run.ToString());
        Assert.Contains("model sync: invalid configuration:", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("'abc' at 'ModelSync:Keep'", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_flags_and_stray_arguments_are_refused_instead_of_ignored()
    {
        var run = await ProcessRun.RunAsync("ServingStack.ModelSync", null, SyncHarness.ProcessTimeout,
            "--once", "--source", "s3://bucket/models", "--target=/srv/models", "--intervall=5m", "leftover");

        Assert.True(run.ExitCode == ModelSyncExitCodes.InvalidConfiguration, run.ToString());
        Assert.Contains("unknown flag --intervall", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("unexpected argument 'leftover'", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }
}
