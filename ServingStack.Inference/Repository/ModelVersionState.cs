namespace ServingStack.Inference.Repository;

/// <summary>A version's life, with TF Serving's numbers so its status codes read the same.</summary>
public enum ModelVersionState
{
    Unknown = 0,
    Start = 10,
    Loading = 20,
    Available = 30,
    Unloading = 40,
    End = 50,
}
