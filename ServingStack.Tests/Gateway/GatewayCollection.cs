namespace ServingStack.Tests.Gateway;

/// <summary>Gateway tests share the two inference servers (and so run one class at a time).</summary>
[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayServersFixture>
{
    public const string Name = "gateway";
}
