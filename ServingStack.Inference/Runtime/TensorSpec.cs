namespace ServingStack.Inference.Runtime;

/// <summary>A model input or output as the model declares it; -1 marks a variable dimension.</summary>
public sealed record TensorSpec(string Name, TensorDataType DataType, long[] Shape)
{
    /// <summary>True when dimension 0 is variable, so requests may batch rows along it.</summary>
    public bool HasVariableBatch => Shape.Length > 0 && Shape[0] < 0;

    public string FormatShape() => ShapeText.Format(Shape);
}
