using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Configuration;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Sources;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

[Collection(InProcessSidecars.Name)]
public sealed class ModelSyncConfigurationTests
{
    [Fact]
    public void Every_configuration_problem_is_reported_at_once()
    {
        var result = new ModelSyncOptionsValidator().Validate(null, new ModelSyncOptions
        {
            Source = "ftp://host/models",
            Target = null,
            Interval = "soon",
            Keep = -1,
            S3Endpoint = "not a url",
        });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(5, failures.Count);
        Assert.Contains(failures, f => f.Contains("--source", StringComparison.Ordinal) && f.Contains("ftp", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--target", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--interval", StringComparison.Ordinal) && f.Contains("soon", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--keep", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--s3-endpoint", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("never", "must be a duration")]
    [InlineData("500ms", "between 1s and 1h")]
    [InlineData("2h", "between 1s and 1h")]
    public void The_no_progress_timeout_is_validated(string value, string error)
    {
        var result = new ModelSyncOptionsValidator().Validate(null, new ModelSyncOptions { Source = "https://h/i.json", Target = "/t", NoProgressTimeout = value });
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("ModelSync:NoProgressTimeout", failure, StringComparison.Ordinal);
        Assert.Contains(error, failure, StringComparison.Ordinal);
        Assert.Contains(value, failure, StringComparison.Ordinal);

        Assert.True(new ModelSyncOptionsValidator().Validate(null, new ModelSyncOptions { Source = "https://h/i.json", Target = "/t", NoProgressTimeout = "90s" }).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(90), new ModelSyncOptions { NoProgressTimeout = "90s" }.NoProgressTimeoutValue);
        Assert.Equal(TimeSpan.FromSeconds(60), new ModelSyncOptions().NoProgressTimeoutValue);
    }

    [Fact]
    public void A_folder_source_and_target_must_not_nest()
    {
        var root = Path.Combine(Path.GetTempPath(), "nest");
        var result = new ModelSyncOptionsValidator().Validate(null, new ModelSyncOptions { Source = root, Target = Path.Combine(root, "repo") });
        Assert.Contains("inside one another", Assert.Single(result.Failures!), StringComparison.Ordinal);

        // --s3-endpoint with a non-S3 source is a mistake worth naming.
        result = new ModelSyncOptionsValidator().Validate(null, new ModelSyncOptions { Source = "https://h/i.json", Target = "/t", S3Endpoint = "http://127.0.0.1:9000" });
        Assert.Contains("s3:// sources only", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_map_onto_the_ModelSync_section_and_once_needs_no_value()
    {
        // --once in the middle must not swallow the flag after it.
        await using var app = ModelSyncApp.Create(["--source", "s3://bucket/some/prefix", "--target=/srv/models", "--once", "--interval", "5m", "--keep", "3", "--s3-endpoint", "http://127.0.0.1:9000"]);
        var options = app.Services.GetRequiredService<IOptions<ModelSyncOptions>>().Value;

        Assert.Equal("s3://bucket/some/prefix", options.Source);
        Assert.Equal("/srv/models", options.Target);
        Assert.True(options.Once);
        Assert.Equal(TimeSpan.FromMinutes(5), options.IntervalValue);
        Assert.Equal(3, options.Keep);
        Assert.Equal("http://127.0.0.1:9000", options.S3Endpoint);
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("500ms", 500)]
    [InlineData("5m", 300_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("45", 45_000)]
    [InlineData("00:02:00", 120_000)]
    public void Durations_read_as_people_write_them(string text, long milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("1e400")]
    public void Bad_durations_are_refused(string text) => Assert.False(Duration.TryParse(text, out _));

    [Fact]
    public void Sources_are_recognised_by_their_scheme()
    {
        Assert.True(SourceLocation.TryParse("s3://bucket/a/b/", out var s3, out _));
        Assert.Equal((SourceKind.S3, "bucket", "a/b/"), (s3!.Kind, s3.Bucket, s3.Prefix));
        Assert.True(SourceLocation.TryParse("s3://bucket", out s3, out _));
        Assert.Equal(string.Empty, s3!.Prefix);
        Assert.False(SourceLocation.TryParse("s3:///prefix", out _, out var error));
        Assert.Contains("no bucket", error, StringComparison.Ordinal);

        Assert.True(SourceLocation.TryParse("https://cdn.example/models/", out var http, out _));
        Assert.Equal(new Uri("https://cdn.example/models/index.json"), http!.IndexUri);
        Assert.True(SourceLocation.TryParse("http://cdn.example/models/v2.json", out http, out _));
        Assert.Equal(new Uri("http://cdn.example/models/v2.json"), http!.IndexUri);

        Assert.True(SourceLocation.TryParse("file:///mnt/models", out var folder, out _));
        Assert.Equal((SourceKind.FileSystem, Path.GetFullPath("/mnt/models")), (folder!.Kind, folder.Folder));
        Assert.True(SourceLocation.TryParse("relative/models", out folder, out _));
        Assert.Equal(Path.GetFullPath("relative/models"), folder!.Folder);
    }

    [Fact]
    public async Task Once_with_a_bad_configuration_exits_2_listing_every_problem()
    {
        await using var process = await ModelSyncProcess.RunAsync(null, SyncHarness.ProcessTimeout, "--once", "--interval=soon", "--keep=-2");

        Assert.True(process.ExitCode == ModelSyncExitCodes.InvalidConfiguration, process.ToString());
        Assert.Contains("--source", process.StdErr, StringComparison.Ordinal);
        Assert.Contains("--target", process.StdErr, StringComparison.Ordinal);
        Assert.Contains("--interval", process.StdErr, StringComparison.Ordinal);
        Assert.Contains("--keep", process.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.StdErr, StringComparison.Ordinal); // a message, not a stack trace
    }
}
