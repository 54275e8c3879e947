using ServingStack.ModelSync.Hosting;

var app = ModelSyncApp.Create(args);
return await app.RunModelSyncAsync();
