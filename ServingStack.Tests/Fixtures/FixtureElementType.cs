namespace ServingStack.Tests.Fixtures;

/// <summary>Tensor element types the identity fixture can be built for.</summary>
/// <remarks>Our own enum so tests need not depend on OnnxSharp's generated protobuf types.</remarks>
public enum FixtureElementType
{
    // The members are named after the element types they stand for, on purpose.
#pragma warning disable CA1720 // Identifier contains type name
    Float,
    Double,
    Int32,
    Int64,
    UInt8,
    Bool,
    Float16,
    String,
#pragma warning restore CA1720
}
