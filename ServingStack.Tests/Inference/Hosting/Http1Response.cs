namespace ServingStack.Tests.Inference.Hosting;

/// <summary>One complete HTTP/1.1 response read by <see cref="RawHttp1Client"/>.</summary>
public sealed record Http1Response(int Status, bool ConnectionClose, string Body);
