namespace ServingStack.Bench.Inputs;

/// <summary>
/// One input's values, row-major, kept independent of any wire format: numbers (booleans as 0/1) as doubles, which hold
/// every value the generator or an input file produces exactly, and BYTES elements as strings.
/// </summary>
public sealed class InputTensor
{
    public InputTensor(string name, string datatype, long[] shape, double[]? numbers, string[]? strings)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if ((numbers?.LongLength ?? strings?.LongLength) != count || (numbers is null) == (strings is null))
        {
            throw new ArgumentException($"Input '{name}' has shape [{string.Join(',', shape)}] ({count} elements) but a different number of values.");
        }

        Name = name;
        Datatype = datatype;
        Shape = shape;
        Numbers = numbers;
        Strings = strings;
    }

    public string Name { get; }

    public string Datatype { get; }

    public long[] Shape { get; }

    /// <summary>Numeric and BOOL values; null for BYTES.</summary>
    public double[]? Numbers { get; }

    /// <summary>BYTES values; null otherwise.</summary>
    public string[]? Strings { get; }

    public int ElementCount => Numbers?.Length ?? Strings!.Length;

    /// <summary>dim 0, the rows this input carries.</summary>
    public long Rows => Shape.Length == 0 ? 1 : Shape[0];

    public override string ToString() => $"{Name} {Datatype} [{string.Join(',', Shape)}]";
}
