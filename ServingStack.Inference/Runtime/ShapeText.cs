using System.Text;

namespace ServingStack.Inference.Runtime;

/// <summary>Formats shapes for error messages the way users write them: [-1,784].</summary>
public static class ShapeText
{
    public static string Format(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(shape[i]);
        }

        return sb.Append(']').ToString();
    }

    /// <summary>Product of the dimensions, or -1 when it overflows or any dimension is negative.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                return -1;
            }

            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                return -1;
            }
        }

        return count;
    }
}
