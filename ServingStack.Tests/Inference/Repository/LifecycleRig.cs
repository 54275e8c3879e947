using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>
/// The lifecycle's parts without a web host: real ONNX Runtime sessions on small model files, a fake clock, and a
/// captured log (load and unload counts are read from the VersionAvailable / VersionUnloaded events).
/// </summary>
internal sealed class LifecycleRig : IDisposable
{
    public const int AvailableEvent = 2;
    public const int UnloadedEvent = 5;
    public const int IdentityWidth = 4;

    private readonly ServiceProvider _services;
    private readonly ILoggerFactory _loggers;

    public LifecycleRig()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new ServingMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _loggers = LoggerFactory.Create(b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Debug));
        Sessions = new OnnxSessionFactory(NullLogger<OnnxSessionFactory>.Instance);
    }

    public TempModelRepository Repo { get; } = new();

    public CapturedLog Log { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public ServingMetrics Metrics { get; }

    public OnnxSessionFactory Sessions { get; }

    public ILogger Logger => _loggers.CreateLogger<ModelManager>();

    public int Count(int eventId) => Log.Entries.Count(e => e.EventId.Id == eventId);

    /// <summary>Writes {model}/{version}/model.onnx: a float identity [batch, 4] (cheap to load).</summary>
    public string AddIdentity(string model, long version) =>
        Path.GetDirectoryName(Repo.AddVersion(model, version, ModelFactory.CreateIdentity(FixtureElementType.Float, IdentityWidth)))!;

    public OnnxModelSession OpenIdentity(long version = 1)
    {
        var folder = AddIdentity("sessions", version);
        return Sessions.Create(Path.Combine(folder, ModelVersionLoader.ModelFileName), new ExecutionSettings(), "sessions", version);
    }

    public OnnxModelSession OpenMlp(int seed)
    {
        var file = Repo.AddMlp("mlp", seed, seed);
        return Sessions.Create(file, new ExecutionSettings(), "mlp", seed);
    }

    public static ModelConfig Config(string name, string basePath, ModelVersionPolicy policy) =>
        new() { Name = name, BasePath = basePath, VersionPolicy = policy };

    public static ModelVersionPolicy Latest(int count) => new() { Kind = ModelVersionPolicyKind.Latest, NumVersions = count };

    /// <summary>A manager as the host builds it, minus the host: tests drive it by calling Reconcile/ApplyConfig (the poller's calls).</summary>
    public ModelManager CreateManager(ModelServerConfig config, ServingOptions? options = null)
    {
        // Polling off: a folder's first scan is trusted (the storm publishes complete folders).
        options ??= new ServingOptions { FileSystemPollWaitSeconds = 0, NumLoadThreads = 2 };
        var wrapped = Options.Create(options);
        return new ModelManager(
            Options.Create(config), new FixedFactory(config), wrapped,
            new ModelVersionLoader(Sessions, wrapped, NullLogger<ModelVersionLoader>.Instance),
            Metrics, _loggers.CreateLogger<ModelManager>(), Time);
    }

    public void Dispose()
    {
        _loggers.Dispose();
        Metrics.Dispose();
        _services.Dispose();
        Repo.Dispose();
    }

    private sealed class FixedFactory(ModelServerConfig config) : IOptionsFactory<ModelServerConfig>
    {
        public ModelServerConfig Create(string name) => config;
    }
}
