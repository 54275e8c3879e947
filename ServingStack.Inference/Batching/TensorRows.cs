using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Batching;

/// <summary>Row-wise copies along dimension 0: stacking requests into a batch and handing each its rows back.</summary>
public static class TensorRows
{
    /// <summary>Elements in one row (the product of every dimension but the first).</summary>
    public static long RowElements(long[] shape) => ShapeText.ElementCount(shape.AsSpan(1));

    /// <summary>A new tensor holding rows [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="source"/>.</summary>
    public static InferenceTensor Slice(InferenceTensor source, long start, long count)
    {
        var shape = (long[])source.Shape.Clone();
        shape[0] = count;
        var target = InferenceTensor.AllocateUninitialized(source.Name, source.DataType, shape);
        var rowElements = RowElements(source.Shape);
        if (source.DataType == TensorDataType.Bytes)
        {
            Array.Copy(source.Strings!, start * rowElements, target.Strings!, 0, count * rowElements);
        }
        else
        {
            var rowBytes = (int)(rowElements * source.DataType.ElementSize());
            source.Bytes.Slice((int)start * rowBytes, (int)count * rowBytes).CopyTo(target.Bytes);
        }

        return target;
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="source"/>: a view over the same
    /// buffer for fixed-size elements (no copy; the buffer lives until every view is disposed), a copy of the strings for BYTES.
    /// </summary>
    public static InferenceTensor View(InferenceTensor source, long start, long count) =>
        source.DataType == TensorDataType.Bytes ? Slice(source, start, count) : source.ViewRows(start, count);

    /// <summary>Copies <paramref name="source"/>'s rows into <paramref name="target"/> starting at row <paramref name="row"/>.</summary>
    public static void CopyInto(InferenceTensor source, InferenceTensor target, long row)
    {
        if (source.DataType == TensorDataType.Bytes)
        {
            var rowElements = RowElements(source.Shape);
            Array.Copy(source.Strings!, 0, target.Strings!, row * rowElements, source.Strings!.Length);
            return;
        }

        source.Bytes.CopyTo(target.Bytes[(int)(row * RowElements(source.Shape) * source.DataType.ElementSize())..]);
    }
}
