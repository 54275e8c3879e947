using ServingStack.Gateway.Hosting;

var app = GatewayApp.Create(args);
app.Run();
