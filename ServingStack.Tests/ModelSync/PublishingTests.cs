using System.Text;
using ServingStack.ModelSync.Publishing;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>What the publisher refuses, whichever source lies: sizes, checksums, names.</summary>
[Collection(InProcessSidecars.Name)]
public sealed class PublishingTests : IDisposable
{
    private readonly TempModelRepository _target = new();

    public void Dispose() => _target.Dispose();

    private Task<(SyncReport Report, CapturedLog Log)> SyncAsync(StubModelSource source) =>
        SyncHarness.SyncAsync(["--source=/unused-stub-source", $"--target={_target.Root}"], source);

    [Fact]
    public async Task Sizes_other_than_listed_are_never_published()
    {
        var model = SyncHarness.Mlp(1);
        var source = new StubModelSource()
            .Add("short/1/model.onnx", model, listedSize: model.Length + 10)
            .Add("long/1/model.onnx", model, listedSize: model.Length - 10)
            .Add("good/1/model.onnx", model);

        var (report, _) = await SyncAsync(source);

        Assert.Equal(["good/1"], report.Published);
        Assert.Equal(2, report.Problems.Count);
        Assert.All(report.Problems, p => Assert.Equal(SyncProblemKind.SizeMismatch, p.Kind));
        Assert.Contains(report.Problems, p => p.Subject == "short/1/model.onnx" && p.Message.Contains($"got {model.Length}", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Subject == "long/1/model.onnx" && p.Message.Contains("sent more", StringComparison.Ordinal));
        Assert.Empty(SyncHarness.Versions(_target.Root, "short"));
        Assert.Empty(SyncHarness.Versions(_target.Root, "long"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task A_checksum_mismatch_in_any_file_keeps_the_whole_version_out()
    {
        var model = SyncHarness.Mlp(1);
        var labels = "a\nb\n"u8.ToArray();
        var source = new StubModelSource()
            .Add("mnist/1/model.onnx", model, checksum: ExpectedChecksum.Sha256(SyncHarness.Sha256(model), "the index"))
            .Add("mnist/1/labels.txt", labels, checksum: ExpectedChecksum.Sha256(new string('0', 64), "the index"));

        var (report, log) = await SyncAsync(source);

        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.ChecksumMismatch, "mnist/1/labels.txt"), (problem.Kind, problem.Subject));
        Assert.Contains(SyncHarness.Sha256(labels), problem.Message, StringComparison.Ordinal);
        Assert.Empty(SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
        Assert.Contains(log.Entries, e => e.EventId.Name == "ChecksumMismatch" && e.Level == Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task An_md5_etag_is_checked_too()
    {
        var model = SyncHarness.Mlp(1);
        var md5 = SyncHarness.Md5(model);
        var source = new StubModelSource()
            .Add("good/1/model.onnx", model, checksum: ExpectedChecksum.Md5(md5, "the single-part ETag"))
            .Add("bad/1/model.onnx", model, checksum: ExpectedChecksum.Md5(new string('f', 32), "the single-part ETag"));

        var (report, _) = await SyncAsync(source);

        Assert.Equal(["good/1"], report.Published);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(SyncProblemKind.ChecksumMismatch, problem.Kind);
        Assert.Contains($"MD5 mismatch: expected {new string('f', 32)} (the single-part ETag), got {md5}", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsafe_file_names_fail_their_version_and_nothing_escapes_the_target()
    {
        var source = new StubModelSource()
            .Add("mnist/1/model.onnx", SyncHarness.Mlp(1))
            .Add("mnist/1/../../../escaped.txt", [1])
            .Add("mnist/2/model.onnx", SyncHarness.Mlp(2));

        var (report, _) = await SyncAsync(source);

        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.UnsafePath, "mnist/1"), (problem.Kind, problem.Subject));
        Assert.Equal(["mnist/2"], report.Published);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_target.Root)!, "escaped.txt")));
    }

    [Theory]
    [InlineData("mnist/1/model.onnx", ModelPathKind.VersionFile)]
    [InlineData("mnist/12/sub/dir/file.bin", ModelPathKind.VersionFile)]
    [InlineData("mnist/0/model.onnx", ModelPathKind.Ignored)]
    [InlineData("mnist/v2/model.onnx", ModelPathKind.Ignored)]
    [InlineData("mnist/-1/model.onnx", ModelPathKind.Ignored)]
    [InlineData(".staging/1/model.onnx", ModelPathKind.Ignored)]
    [InlineData("mnist/1", ModelPathKind.Ignored)]
    [InlineData("index.json", ModelPathKind.Ignored)]
    [InlineData("mnist/1/../x", ModelPathKind.Unsafe)]
    [InlineData("mnist/1//x", ModelPathKind.Unsafe)]
    [InlineData("mnist/1/a\\b", ModelPathKind.Unsafe)]
    public void Source_paths_are_classified_as_the_server_reads_its_repository(string path, ModelPathKind kind) =>
        Assert.Equal(kind, ModelFilePath.Classify(path, out _, out _));

    [Fact]
    public void Large_files_report_progress_every_tenth()
    {
        var progress = new CopyProgress(100L * 1024 * 1024);
        var reported = new List<int>();
        for (long bytes = 0; bytes <= 100L * 1024 * 1024; bytes += 256 * 1024)
        {
            if (progress.Advance(bytes) is { } percent)
            {
                reported.Add(percent);
            }
        }

        Assert.Equal([10, 20, 30, 40, 50, 60, 70, 80, 90], reported);
        Assert.Null(new CopyProgress(1024).Advance(512));
    }

    [Fact]
    public async Task A_large_download_logs_its_progress()
    {
        var big = new byte[40 * 1024 * 1024];
        new Random(5).NextBytes(big);
        var source = new StubModelSource().Add("big/1/weights.bin", big);

        var (report, log) = await SyncAsync(source);

        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        var lines = log.Entries.Where(e => e.EventId.Name == "FileProgress").Select(e => e.Message).ToList();
        Assert.Equal(9, lines.Count);
        Assert.StartsWith("big/1/weights.bin: 10% (", lines[0], StringComparison.Ordinal);
        Assert.Contains("MB/s", lines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", null, "\"ignored\"", null, "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=-3", "COMPOSITE", "\"0123456789abcdef0123456789abcdef\"", null, "md5:0123456789abcdef0123456789abcdef")]
    [InlineData(null, null, "\"0123456789ABCDEF0123456789ABCDEF\"", "AES256", "md5:0123456789abcdef0123456789abcdef")]
    [InlineData(null, null, "\"0123456789abcdef0123456789abcdef-4\"", null, "none")]
    [InlineData(null, null, "\"0123456789abcdef0123456789abcdef\"", "aws:kms", "none")]
    [InlineData(null, null, null, null, "none")]
    public void S3_objects_are_checked_by_full_object_sha256_else_a_single_part_md5_etag(string? sha256, string? type, string? etag, string? sse, string expected)
    {
        var checksum = S3ModelSource.ChecksumOf(sha256, type, etag, sse, customerKeyAlgorithm: null);
        var text = checksum is null ? "none" : $"{(checksum.Algorithm == ChecksumAlgorithm.Sha256 ? "sha256" : "md5")}:{checksum.Hex}";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void An_index_with_bad_entries_is_refused_naming_each()
    {
        var index = new Uri("http://127.0.0.1:1/models/index.json");
        var json = Encoding.UTF8.GetBytes("""
            {"files": [
              {"path": "mnist/1/model.onnx", "size": 10, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
              {"path": "mnist/2/model.onnx", "size": -1, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
              {"path": "mnist/3/model.onnx", "size": 10, "sha256": "abc"},
              {"size": 10}
            ]}
            """);

        var error = Assert.Throws<ModelSourceException>(() => HttpIndexModelSource.Parse(json, index));
        Assert.Contains("3 bad entries", error.Message, StringComparison.Ordinal);
        Assert.Contains("files[1] (mnist/2/model.onnx)", error.Message, StringComparison.Ordinal);
        Assert.Contains("files[2] (mnist/3/model.onnx)", error.Message, StringComparison.Ordinal);
        Assert.Contains("files[3] has no \"path\"", error.Message, StringComparison.Ordinal);

        Assert.Contains("not valid JSON", Assert.Throws<ModelSourceException>(() => HttpIndexModelSource.Parse("{"u8, index)).Message, StringComparison.Ordinal);

        // Files are fetched relative to the index, each path segment escaped.
        Assert.Equal(new Uri("http://127.0.0.1:1/models/mnist/1/my%20labels.txt"), HttpIndexModelSource.FileUri(index, "mnist/1/my labels.txt"));
    }
}
