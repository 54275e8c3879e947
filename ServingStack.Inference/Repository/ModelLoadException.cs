namespace ServingStack.Inference.Repository;

public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message)
    {
    }

    public ModelLoadException(string message, Exception inner) : base(message, inner)
    {
    }

    public ModelLoadException()
    {
    }
}
