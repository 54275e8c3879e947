namespace ServingStack.Gateway.Splits;

/// <summary>What a split request says about the target that served it.</summary>
public enum RequestOutcome
{
    /// <summary>The model server answered it.</summary>
    Success,

    /// <summary>The model server (or the way to it) failed: evidence against the target.</summary>
    ServerFailure,

    /// <summary>The client caused the outcome (a bad request, a cancel, its own deadline): no evidence either way.</summary>
    ClientCaused,
}
