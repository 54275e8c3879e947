using ServingStack.Inference.Hosting;

var app = InferenceServerApp.Create(args);
app.Run();
