using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// A real S3-compatible server on loopback: s3rver (npm), installed on first use with <c>npm install --prefix</c> into
/// a cache folder (<c>$SERVINGSTACK_TOOLS_CACHE</c>, else <c>~/.cache/servingstack</c>, else the temp folder) and
/// started with node on a free port. It keeps each object as a plain file, so tests can corrupt one on disk, a fault
/// the S3 API cannot cause. A machine that cannot install it fails the tests with npm's output, never skips them.
/// </summary>
public sealed partial class S3Server : IAsyncLifetime
{
    public const string PackageVersion = "3.7.1";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly SemaphoreSlim s_install = new(1, 1);
    private Process? _process;
    private readonly StringBuilder _output = new();

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>s3rver's data folder: <c>{DataDirectory}/{bucket}/{key}._S3rver_object</c>.</summary>
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "servingstack-tests", "s3rver-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var package = await InstallAsync();
        Directory.CreateDirectory(DataDirectory);
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(package, "node_modules", "s3rver", "bin", "s3rver.js"), "-d", DataDirectory, "-a", "127.0.0.1", "-p", "0", "--silent", "--no-vhost-buckets" })
        {
            start.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data, listening);
        _process.ErrorDataReceived += (_, e) => OnOutput(e.Data, listening);
        _process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"s3rver exited at start:\n{Output}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Endpoint = new Uri($"http://127.0.0.1:{port}");
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A client for this server: path-style, its fixed credentials, checksums only where S3 requires them (s3rver predates flexible checksums).</summary>
    public AmazonS3Client CreateClient() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>A new bucket with a unique name.</summary>
    public async Task<string> CreateBucketAsync()
    {
        var bucket = "models-" + Guid.NewGuid().ToString("N")[..12];
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return bucket;
    }

    public async Task PutAsync(string bucket, string key, byte[] content)
    {
        using var client = CreateClient();
        using var body = new MemoryStream(content);

        // A plain signed body: s3rver does not read aws-chunked uploads with checksum trailers.
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body, UseChunkEncoding = false });
    }

    /// <summary>The file s3rver keeps an object's bytes in (its ETag, the MD5 of the upload, is kept beside it).</summary>
    public string ObjectFile(string bucket, string key) =>
        Path.Combine(DataDirectory, bucket, key.Replace('/', Path.DirectorySeparatorChar) + "._S3rver_object");

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The installed package folder (holding node_modules/s3rver), installing it first when missing.</summary>
    public static async Task<string> InstallAsync()
    {
        var folder = Path.Combine(CacheRoot(), $"s3rver-{PackageVersion}");
        var marker = Path.Combine(folder, "node_modules", "s3rver", "bin", "s3rver.js");
        if (File.Exists(marker))
        {
            return folder;
        }

        await s_install.WaitAsync();
        try
        {
            if (File.Exists(marker))
            {
                return folder;
            }

            // Into a fresh folder, then one rename: a concurrent or interrupted install never leaves a half package behind.
            var staging = $"{folder}.{Guid.NewGuid():N}.tmp";
            Directory.CreateDirectory(staging);
            var (exitCode, output) = await RunAsync("npm", ["install", "--prefix", staging, $"s3rver@{PackageVersion}", "--no-audit", "--no-fund", "--loglevel=error"], TimeSpan.FromMinutes(5));
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"could not install s3rver {PackageVersion} with npm (exit {exitCode}); the S3 tests need node and npm with access to the npm registry:\n{output}");
            }

            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (File.Exists(marker))
            {
                // Another process installed it first.
                Directory.Delete(staging, recursive: true);
            }

            return File.Exists(marker) ? folder : throw new InvalidOperationException($"npm installed s3rver but {marker} is missing:\n{output}");
        }
        finally
        {
            s_install.Release();
        }
    }

    private static string CacheRoot()
    {
        var configured = Environment.GetEnvironmentVariable("SERVINGSTACK_TOOLS_CACHE");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.Combine(Path.GetTempPath(), "servingstack-tools") : Path.Combine(home, ".cache", "servingstack");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, $"{file} could not be started: {ex.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{file} ran past {timeout.TotalMinutes} min\n{await stdout}{await stderr}");
            }

            return (process.ExitCode, await stdout + await stderr);
        }
    }

    private void OnOutput(string? line, TaskCompletionSource<int> listening)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (Listening().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"listening on [^:\s]+:(\d+)")]
    private static partial Regex Listening();
}
