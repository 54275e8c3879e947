namespace ServingStack.Gateway.Splits;

public enum PromotionStatus
{
    /// <summary>Advancing a step after enough healthy windows.</summary>
    Progressing,

    /// <summary>Weights were set through the admin API; they stay until the promotion is resumed or reconfigured.</summary>
    Paused,

    /// <summary>The canary was rolled back; nothing advances it any more.</summary>
    Stopped,

    /// <summary>The canary reached 100.</summary>
    Completed,
}
