namespace ServingStack.Bench.Inputs;

/// <summary>Open Inference datatype names and what the encoders need to know about each.</summary>
public static class Datatypes
{
    public const string Bool = "BOOL";
    public const string Bytes = "BYTES";
    public const string Fp16 = "FP16";
    public const string Bf16 = "BF16";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";

    private static readonly Dictionary<string, int> Sizes = new(StringComparer.Ordinal)
    {
        [Bool] = 1,
        ["INT8"] = 1,
        ["UINT8"] = 1,
        ["INT16"] = 2,
        ["UINT16"] = 2,
        [Fp16] = 2,
        [Bf16] = 2,
        ["INT32"] = 4,
        ["UINT32"] = 4,
        [Fp32] = 4,
        ["INT64"] = 8,
        ["UINT64"] = 8,
        [Fp64] = 8,
    };

    public static bool IsKnown(string datatype) => datatype == Bytes || Sizes.ContainsKey(datatype);

    public static bool IsFloatingPoint(string datatype) => datatype is Fp16 or Bf16 or Fp32 or Fp64;

    public static bool IsUnsigned(string datatype) => datatype.StartsWith('U');

    /// <summary>Bytes per element in raw contents; 0 for BYTES (length-prefixed) and unknown types.</summary>
    public static int SizeOf(string datatype) => Sizes.GetValueOrDefault(datatype);
}
