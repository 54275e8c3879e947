using ServingStack.Inference.Configuration;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>
/// The whole lifecycle (reconciler, loader, unloader) under a storm of publishes and config changes, and at shutdown:
/// it ends with exactly the wanted versions loaded and every other loaded session freed once. Real ONNX Runtime loads.
/// </summary>
public sealed class ModelManagerLifecycleTests : IDisposable
{
    private readonly LifecycleRig _rig = new();

    public void Dispose() => _rig.Dispose();

    private static ModelServerConfig Serving(ModelConfig model)
    {
        var config = new ModelServerConfig();
        config.Models.Add(model);
        return config;
    }

    [Fact]
    public async Task A_storm_of_100_publishes_and_config_changes_ends_with_the_wanted_versions_loaded_and_every_other_released()
    {
        var basePath = _rig.Repo.ModelPath("storm");
        Directory.CreateDirectory(basePath);
        var manager = _rig.CreateManager(Serving(LifecycleRig.Config("storm", basePath, LifecycleRig.Latest(1))));
        try
        {
            for (var i = 1; i <= 100; i++)
            {
                // Published as ModelSync does: written aside, then one rename, so no scan sees a half-written file.
                var staged = _rig.AddIdentity(Path.Combine("storm", ".staging"), i);
                Directory.Move(staged, Path.Combine(basePath, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                if (i % 10 == 0)
                {
                    // A config change every tenth publish: the policy flips between the newest one and the newest two.
                    manager.ApplyConfig(Serving(LifecycleRig.Config("storm", basePath, LifecycleRig.Latest(i % 20 == 0 ? 2 : 1))));
                }
                else
                {
                    manager.Reconcile(); // what the folder poller does on each pass
                }
            }

            var model = manager.Models[0];
            try
            {
                await Eventually.TrueAsync(
                    () =>
                    {
                        manager.Reconcile(); // the poller's pass, which keeps running in a server
                        return manager.PendingLoads == 0 && model.Versions.Count(v => v.State == ModelVersionState.Available) == 2
                            && model.Versions.All(v => v.State is ModelVersionState.Available or ModelVersionState.End);
                    },
                    "the storm to settle on two AVAILABLE versions", TimeSpan.FromSeconds(120));
            }
            catch (TimeoutException ex)
            {
                var states = string.Join(", ", model.Versions.Where(v => v.State != ModelVersionState.End || v.Error is not null)
                    .Select(v => $"{v.Version} {v.State} refs={v.References} {v.Error}"));
                throw new TimeoutException($"{ex.Message}; pending loads {manager.PendingLoads}; not ended cleanly: {states}", ex);
            }

            Assert.Equal([99L, 100L], model.Versions.Where(v => v.State == ModelVersionState.Available).Select(v => v.Version));
            await Eventually.TrueAsync(
                () => _rig.Count(LifecycleRig.UnloadedEvent) == _rig.Count(LifecycleRig.AvailableEvent) - 2,
                "every loaded version but the two served to unload");
            var loaded = _rig.Count(LifecycleRig.AvailableEvent);
            Assert.InRange(loaded, 2, 100);
            foreach (var version in model.Versions.Where(v => v.State == ModelVersionState.End))
            {
                Assert.Equal(0, version.References);
                Assert.Null(version.Error);
            }

            // Each served version holds only the repository's base reference: no request leaked one.
            Assert.All(model.Versions.Where(v => v.State == ModelVersionState.Available), v => Assert.Equal(1, v.References));
            Assert.DoesNotContain(_rig.Log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
            manager.Dispose();
        }

        // Shutdown freed the two that were still served, once each.
        Assert.Equal(_rig.Count(LifecycleRig.AvailableEvent), _rig.Count(LifecycleRig.UnloadedEvent));
    }

    [Fact]
    public async Task Shutdown_awaits_loads_in_flight_and_leaves_every_loaded_version_unloaded()
    {
        var basePath = _rig.Repo.ModelPath("many");
        for (var i = 1; i <= 12; i++)
        {
            _rig.AddIdentity("many", i);
        }

        var manager = _rig.CreateManager(
            Serving(LifecycleRig.Config("many", basePath, new ModelVersionPolicy { Kind = ModelVersionPolicyKind.All })),
            new ServingOptions { FileSystemPollWaitSeconds = 0, NumLoadThreads = 1 });
        manager.Reconcile(); // twelve loads queued behind one load slot
        Assert.True(manager.PendingLoads > 0);

        await manager.StopAsync(CancellationToken.None);

        // Nothing is still loading or queued, nothing was left AVAILABLE, and what loaded was freed before StopAsync returned.
        Assert.Equal(0, manager.PendingLoads);
        var versions = manager.Models[0].Versions;
        Assert.All(versions, v => Assert.Equal(ModelVersionState.End, v.State));
        Assert.All(versions, v => Assert.Equal(0, v.References));
        Assert.Equal(_rig.Count(LifecycleRig.AvailableEvent), _rig.Count(LifecycleRig.UnloadedEvent));
        manager.Dispose();
    }

    [Fact]
    public async Task A_removed_model_unloads_in_the_background_after_its_last_request()
    {
        var basePath = _rig.Repo.ModelPath("gone");
        _rig.AddIdentity("gone", 1);
        var manager = _rig.CreateManager(Serving(LifecycleRig.Config("gone", basePath, LifecycleRig.Latest(1))));
        try
        {
            manager.Reconcile();
            var model = manager.Models[0];
            await Eventually.TrueAsync(() => model.HasAvailableVersion, "version 1 to load");

            var request = ModelAcquisition.Acquire(manager, new ModelTarget("gone", null, null), out var error);
            Assert.Null(error);
            Assert.NotNull(request);
            manager.ApplyConfig(new ModelServerConfig()); // the config no longer lists the model

            Assert.Equal(ModelVersionState.Unloading, request.State);
            Assert.Equal(0, _rig.Count(LifecycleRig.UnloadedEvent));
            Assert.Null(ModelAcquisition.Acquire(manager, new ModelTarget("gone", null, null), out error));
            Assert.Equal("model 'gone' is not served here (models: )", error!.Message);

            request.Release();
            await Eventually.TrueAsync(() => request.State == ModelVersionState.End, "the version to unload after its request");
            Assert.Equal(1, _rig.Count(LifecycleRig.UnloadedEvent));
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
            manager.Dispose();
        }
    }

    [Fact]
    public async Task A_load_right_after_an_unload_waits_for_the_drain_and_serves_the_version_again()
    {
        var basePath = _rig.Repo.ModelPath("again");
        _rig.AddIdentity("again", 1);
        var manager = _rig.CreateManager(Serving(LifecycleRig.Config("again", basePath, LifecycleRig.Latest(1))));
        try
        {
            manager.Reconcile();
            var model = manager.Models[0];
            await Eventually.TrueAsync(() => model.HasAvailableVersion, "version 1 to load");
            var request = ModelAcquisition.Acquire(manager, new ModelTarget("again", null, null), out _)!;

            manager.Unload(model);
            Assert.Equal(ModelVersionState.Unloading, request.State);
            var load = manager.LoadAsync(model, TimeSpan.FromHours(1), CancellationToken.None);
            Assert.False(load.IsCompleted); // version 1 is still draining: not a failure, not yet a success

            request.Release();
            // The repository API polls on the (fake) clock: move it on until the answer comes.
            await Eventually.TrueAsync(() =>
            {
                _rig.Time.Advance(TimeSpan.FromMilliseconds(20));
                return load.IsCompleted;
            }, "the load to answer");

            Assert.Null(await load);
            var served = ModelAcquisition.Acquire(manager, new ModelTarget("again", 1, null), out var error);
            Assert.Null(error);
            Assert.NotSame(request, served);
            served!.Release();
            Assert.Equal(ModelVersionState.End, request.State);
            Assert.Equal(2, _rig.Count(LifecycleRig.AvailableEvent));
            Assert.Equal(1, _rig.Count(LifecycleRig.UnloadedEvent));
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
            manager.Dispose();
        }
    }
}
