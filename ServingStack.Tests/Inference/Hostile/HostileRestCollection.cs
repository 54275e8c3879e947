namespace ServingStack.Tests.Inference.Hostile;

/// <summary>The hostile-input tests share one server process (and so run one class at a time), whose memory they watch.</summary>
[CollectionDefinition(Name)]
public sealed class HostileRestCollection : ICollectionFixture<HostileRestServerFixture>
{
    public const string Name = "hostile REST";
}
