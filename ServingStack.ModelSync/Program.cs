using ServingStack.ModelSync.Hosting;

return await StartupFailures.RunOrExitAsync(
    ModelSyncApp.ProcessName, () => ModelSyncApp.Create(args), app => app.RunModelSyncAsync(), ModelSyncExitCodes.InvalidConfiguration);
