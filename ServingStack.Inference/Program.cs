using ServingStack.Inference.Hosting;

return await InferenceServerApp.RunAsync(args);
