using ServingStack.Gateway.Hosting;

return await StartupFailures.RunOrExitAsync(GatewayApp.ProcessName, () => GatewayApp.Create(args));
