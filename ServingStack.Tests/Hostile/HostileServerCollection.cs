namespace ServingStack.Tests.Hostile;

/// <summary>The hostile-input tests share one server process (and so run one class at a time), whose memory they watch.</summary>
[CollectionDefinition(Name)]
public sealed class HostileServerCollection : ICollectionFixture<HostileServerFixture>
{
    public const string Name = "hostile server";
}
