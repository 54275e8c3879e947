namespace ServingStack.Gateway.Security;

/// <summary>What a request may do with the override headers (<c>X-Canary</c>, <c>X-Target</c>).</summary>
public enum OverrideAccess
{
    /// <summary>The headers are ignored; the split's weights decide.</summary>
    None,

    /// <summary>May pick any target that has a weight, or one at weight 0 from configuration (a dark launch).</summary>
    Override,

    /// <summary>May pick any target, one whose weight was taken to 0 at run time (a rollback) included.</summary>
    Admin,
}
