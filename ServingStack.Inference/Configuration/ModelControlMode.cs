namespace ServingStack.Inference.Configuration;

public enum ModelControlMode
{
    Poll,
    Explicit,
}
