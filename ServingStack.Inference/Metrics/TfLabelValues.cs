namespace ServingStack.Inference.Metrics;

/// <summary>
/// The label values of one TF Serving series (at most three labels; unused ones are empty). A value type, so looking a
/// series up on the request path allocates nothing.
/// </summary>
internal readonly record struct TfLabelValues(string A, string B = "", string C = "") : IComparable<TfLabelValues>
{
    public string this[int index] => index switch
    {
        0 => A,
        1 => B,
        _ => C,
    };

    public int CompareTo(TfLabelValues other)
    {
        var order = string.CompareOrdinal(A, other.A);
        if (order == 0)
        {
            order = string.CompareOrdinal(B, other.B);
        }

        return order == 0 ? string.CompareOrdinal(C, other.C) : order;
    }
}
