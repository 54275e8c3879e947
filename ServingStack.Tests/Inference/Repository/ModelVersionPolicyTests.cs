using ServingStack.Inference.Repository;

namespace ServingStack.Tests.Inference.Repository;

public sealed class ModelVersionPolicyTests
{
    [Theory]
    [InlineData(1, new long[] { 1, 2, 5, 10 }, new long[] { 10 })]
    [InlineData(2, new long[] { 1, 2, 5, 10 }, new long[] { 5, 10 })]
    [InlineData(4, new long[] { 1, 2, 5, 10 }, new long[] { 1, 2, 5, 10 })]
    [InlineData(9, new long[] { 3, 4 }, new long[] { 3, 4 })]
    [InlineData(2, new long[0], new long[0])]
    public void Select_latest_N_keeps_the_N_newest_versions(int numVersions, long[] available, long[] expected)
    {
        var policy = new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Latest, NumVersions = numVersions };

        Assert.Equal(expected, policy.Select(available));
    }

    [Fact]
    public void Select_default_policy_serves_only_the_newest_version()
    {
        Assert.Equal([7L], ModelVersionPolicy.Default.Select([1, 3, 7]));
    }

    [Theory]
    [InlineData(new long[] { 1, 2, 5, 10 })]
    [InlineData(new long[] { 4 })]
    [InlineData(new long[0])]
    public void Select_all_keeps_every_version(long[] available)
    {
        var policy = new ModelVersionPolicy { Kind = ModelVersionPolicyKind.All };

        Assert.Equal(available, policy.Select(available));
    }

    [Theory]
    [InlineData(new long[] { 1, 3 }, new long[] { 1, 2, 3, 4 }, new long[] { 1, 3 })]
    [InlineData(new long[] { 3, 9 }, new long[] { 1, 2, 3, 4 }, new long[] { 3 })]
    [InlineData(new long[] { 4, 1 }, new long[] { 1, 2, 3, 4 }, new long[] { 1, 4 })]
    [InlineData(new long[] { 8, 9 }, new long[] { 1, 2 }, new long[0])]
    public void Select_specific_keeps_only_the_listed_versions_that_exist_in_ascending_order(long[] versions, long[] available, long[] expected)
    {
        var policy = new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Specific, Versions = versions };

        Assert.Equal(expected, policy.Select(available));
    }
}
