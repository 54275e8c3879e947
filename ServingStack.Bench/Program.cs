using ServingStack.Bench;

return await BenchApp.RunAsync(args);
