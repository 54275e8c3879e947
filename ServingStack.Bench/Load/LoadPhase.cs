namespace ServingStack.Bench.Load;

public enum LoadPhase
{
    WarmingUp,
    Measuring,
    Draining,
    Done,
}
