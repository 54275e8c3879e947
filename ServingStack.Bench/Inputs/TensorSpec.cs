namespace ServingStack.Bench.Inputs;

/// <summary>An input or output as the server's metadata describes it; -1 marks a variable dimension.</summary>
public sealed record TensorSpec(string Name, string Datatype, IReadOnlyList<long> Shape)
{
    public override string ToString() => $"{Name} {Datatype} [{string.Join(',', Shape)}]";
}
