namespace ServingStack.Tests.Fixtures;

/// <summary>Distinct, deterministic input rows, so a result scattered to the wrong row is caught.</summary>
public static class TestData
{
    public static float[][] MnistRows(int count, int seed = 7)
    {
        var rows = new float[count][];
        var state = (uint)seed * 2654435761u + 1;
        for (var r = 0; r < count; r++)
        {
            rows[r] = new float[MlpWeights.InputSize];
            for (var i = 0; i < rows[r].Length; i++)
            {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                rows[r][i] = (state % 1000) / 1000f;
            }
        }

        return rows;
    }
}
