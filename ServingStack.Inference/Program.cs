using ServingStack.Inference.Hosting;

if (await StartupModelSync.RunIfConfiguredAsync() is var syncExit and not 0)
{
    return syncExit;
}

var app = InferenceServerApp.Create(args);
app.Run();
return Environment.ExitCode;
