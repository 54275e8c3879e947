namespace ServingStack.Bench.Remote;

/// <summary>An output as a probe read it off the wire, whatever the protocol: its shape and its values as doubles.</summary>
public sealed record DecodedTensor(string Name, long[] Shape, double[] Values);
