using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Publishing;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>Runs the sidecar in process (the real app's services) and inspects what it left in a repository.</summary>
internal static class SyncHarness
{
    public static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    /// <summary>One sync pass of the app built from <paramref name="args"/>; <paramref name="source"/> replaces the configured source.</summary>
    public static async Task<(SyncReport Report, CapturedLog Log)> SyncAsync(string[] args, IModelSource? source = null)
    {
        var log = new CapturedLog();
        var app = Build(args, log, source);
        await using (app)
        {
            var report = await app.Services.GetRequiredService<ModelSyncer>().SyncAsync(CancellationToken.None);
            return (report, log);
        }
    }

    /// <summary>The app built from <paramref name="args"/>; <paramref name="source"/> replaces the configured source, <paramref name="time"/> the system clock.</summary>
    public static WebApplication Build(string[] args, CapturedLog log, IModelSource? source = null, TimeProvider? time = null) =>
        ModelSyncApp.Create([.. args, "--environment=Testing"], builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            if (source is not null)
            {
                builder.Services.Replace(ServiceDescriptor.Singleton(source));
            }

            if (time is not null)
            {
                builder.Services.Replace(ServiceDescriptor.Singleton(time));
            }
        });

    /// <summary>
    /// Waits for a pass running on <paramref name="time"/>, moving that clock on by <paramref name="step"/> while the pass
    /// waits on it (no-progress timeouts, retry backoff), until the pass ends.
    /// </summary>
    public static async Task<SyncReport> OnFakeTimeAsync(Task<SyncReport> pass, FakeTimeProvider time, TimeSpan step, TimeSpan? deadline = null)
    {
        await Eventually.TrueAsync(() =>
        {
            if (!pass.IsCompleted)
            {
                time.Advance(step);
            }

            return pass.IsCompleted;
        }, "the sync pass to end", deadline);
        return await pass;
    }

    /// <summary>Every file under <paramref name="root"/> by its '/'-separated relative path: what a source serves.</summary>
    public static Dictionary<string, byte[]> FilesUnder(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes, StringComparer.Ordinal);

    /// <summary>
    /// No partial version: every version folder in <paramref name="target"/> holds exactly the files the source has for
    /// that version (<paramref name="source"/>, by '/'-separated path), each with the source's size and SHA-256.
    /// Returns the versions found ("model/version"), sorted.
    /// </summary>
    public static string[] AssertNoPartialVersion(string target, IReadOnlyDictionary<string, byte[]> source)
    {
        var versions = new List<string>();
        foreach (var (model, byNumber) in TargetRepository.Scan(target))
        {
            foreach (var (number, folder) in byNumber)
            {
                var key = ModelFilePath.VersionName(model, number);
                versions.Add(key);
                var inTarget = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                    .Select(f => $"{key}/{Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')}")
                    .Order(StringComparer.Ordinal).ToList();
                var inSource = source.Keys.Where(p => p.StartsWith(key + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
                Assert.True(inSource.SequenceEqual(inTarget), $"{key} in the target holds [{string.Join(", ", inTarget)}], the source [{string.Join(", ", inSource)}]");
                foreach (var path in inTarget)
                {
                    var file = Path.Combine(folder, path[(key.Length + 1)..].Replace('/', Path.DirectorySeparatorChar));
                    Assert.True(source[path].Length == new FileInfo(file).Length, $"{path} is {new FileInfo(file).Length} bytes in the target, {source[path].Length} in the source");
                    Assert.True(Sha256(source[path]) == Sha256(file), $"{path} in the target differs from the source");
                }
            }
        }

        return [.. versions.Order(StringComparer.Ordinal)];
    }

    /// <summary>The environment a sidecar process needs to reach <see cref="S3Server"/> (its endpoint comes from a flag).</summary>
    public static Dictionary<string, string> S3Environment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        ["AWS_REGION"] = "us-east-1",
        // Never reach for instance metadata on a test machine.
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    /// <summary>An S3 source for the whole of <paramref name="bucket"/> at <paramref name="endpoint"/> (the server, or a proxy in front of it).</summary>
    public static S3ModelSource S3Source(string bucket, Uri endpoint) =>
        new(new AmazonS3Client(new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey), S3ModelSource.CreateConfig(endpoint.ToString(), _ => null, out var resolved)),
            bucket, string.Empty, resolved, ownsClient: true);

    /// <summary>A folder source that settles fast, for tests that do not exercise settling.</summary>
    public static FileSystemModelSource QuickFolder(string folder) => new(folder, TimeSpan.FromMilliseconds(50));

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

#pragma warning disable CA5351 // S3's ETag is an MD5; the tests compute what S3 would.
    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));
#pragma warning restore CA5351

    /// <summary>Numeric version folders of <paramref name="model"/> in <paramref name="target"/>, ascending.</summary>
    public static long[] Versions(string target, string model) =>
        TargetRepository.Scan(target).TryGetValue(model, out var versions) ? [.. versions.Keys] : [];

    /// <summary>Everything left in the staging area besides its lock file.</summary>
    public static string[] StagingLeftovers(string target)
    {
        var staging = Path.Combine(target, StagingArea.FolderName);
        return Directory.Exists(staging)
            ? Directory.EnumerateFileSystemEntries(staging).Where(e => Path.GetFileName(e) != StagingArea.LockFileName).ToArray()
            : [];
    }

    /// <summary>
    /// Writes {root}/{model}/{version}/{file} and returns its bytes. The file appears whole (written beside the
    /// temp folder, then renamed in), so a polling sidecar never lists it half-written.
    /// </summary>
    public static byte[] Write(string root, string model, long version, byte[] content, string file = "model.onnx")
    {
        var path = Path.Combine(root, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture), file.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = Path.Combine(Path.GetTempPath(), "servingstack-tests", $"write-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.GetDirectoryName(temp)!);
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
        return content;
    }

    public static byte[] Mlp(int seed) => ModelFactory.CreateMlp(MlpWeights.Create(seed));

    public static void AssertPublished(string target, string model, long version, byte[] expected, string file = "model.onnx")
    {
        var path = Path.Combine(target, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture), file.Replace('/', Path.DirectorySeparatorChar));
        Assert.True(File.Exists(path), $"{path} was not published");
        Assert.Equal(Sha256(expected), Sha256(path));
    }
}
