namespace ServingStack.Tests.Fixtures;

/// <summary>
/// Deterministic weights for an MNIST-shaped MLP (784 → 128 → ReLU → 10 → softmax), plus a
/// double-precision reference evaluation that is independent of ONNX Runtime.
/// </summary>
public sealed class MlpWeights
{
    public const int InputSize = 784;
    public const int HiddenSize = 128;
    public const int OutputSize = 10;

    /// <summary>Seed used by fixtures that need "some" MLP and don't care which.</summary>
    public const int DefaultSeed = 42;

    private const float BiasLimit = 0.05f;

    private MlpWeights(float[] w1, float[] b1, float[] w2, float[] b2)
    {
        W1 = w1;
        B1 = b1;
        W2 = w2;
        B2 = b2;
    }

    /// <summary>Layer 1 weights, row-major [InputSize, HiddenSize] (Gemm B without transpose).</summary>
    public float[] W1 { get; }

    /// <summary>Layer 1 bias, [HiddenSize].</summary>
    public float[] B1 { get; }

    /// <summary>Layer 2 weights, row-major [HiddenSize, OutputSize].</summary>
    public float[] W2 { get; }

    /// <summary>Layer 2 bias, [OutputSize].</summary>
    public float[] B2 { get; }

    /// <summary>Creates weights from <paramref name="seed"/>; the same seed always gives the same weights.</summary>
    public static MlpWeights Create(int seed)
    {
        // SplitMix64 rather than System.Random: its output is fixed by definition, so fixtures
        // (and any expected values derived from them) stay stable across .NET versions.
        var state = unchecked((ulong)seed);
        var w1 = Uniform(ref state, InputSize * HiddenSize, GlorotLimit(InputSize, HiddenSize));
        var b1 = Uniform(ref state, HiddenSize, BiasLimit);
        var w2 = Uniform(ref state, HiddenSize * OutputSize, GlorotLimit(HiddenSize, OutputSize));
        var b2 = Uniform(ref state, OutputSize, BiasLimit);
        return new MlpWeights(w1, b1, w2, b2);
    }

    /// <summary>Computes the 10 softmax probabilities for one input row in double precision.</summary>
    public double[] Evaluate(ReadOnlySpan<float> row)
    {
        if (row.Length != InputSize)
        {
            throw new ArgumentException($"Expected {InputSize} values but got {row.Length}.", nameof(row));
        }

        var hidden = new double[HiddenSize];
        for (var j = 0; j < HiddenSize; j++)
        {
            var sum = (double)B1[j];
            for (var i = 0; i < InputSize; i++)
            {
                sum += row[i] * (double)W1[(i * HiddenSize) + j];
            }

            hidden[j] = Math.Max(0.0, sum);
        }

        var logits = new double[OutputSize];
        for (var k = 0; k < OutputSize; k++)
        {
            var sum = (double)B2[k];
            for (var j = 0; j < HiddenSize; j++)
            {
                sum += hidden[j] * W2[(j * OutputSize) + k];
            }

            logits[k] = sum;
        }

        // Subtract the max so exp cannot overflow, as ORT's Softmax does.
        var max = logits.Max();
        var total = 0.0;
        for (var k = 0; k < OutputSize; k++)
        {
            logits[k] = Math.Exp(logits[k] - max);
            total += logits[k];
        }

        for (var k = 0; k < OutputSize; k++)
        {
            logits[k] /= total;
        }

        return logits;
    }

    private static float GlorotLimit(int fanIn, int fanOut) => (float)Math.Sqrt(6.0 / (fanIn + fanOut));

    private static float[] Uniform(ref ulong state, int count, float limit)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            // Top 53 bits give a uniform double in [0, 1); map it to [-limit, limit).
            var unit = (NextUInt64(ref state) >> 11) * (1.0 / (1UL << 53));
            values[i] = (float)(((2.0 * unit) - 1.0) * limit);
        }

        return values;
    }

    private static ulong NextUInt64(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
