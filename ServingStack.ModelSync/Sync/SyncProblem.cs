using System.Text;

namespace ServingStack.ModelSync.Sync;

/// <summary>One reason a sync is not complete: what (a model, version or file path) and why.</summary>
public sealed record SyncProblem(SyncProblemKind Kind, string Subject, string Message)
{
    /// <summary>The kind in snake case, as the metrics label it: <c>checksum_mismatch</c>.</summary>
    public string Reason => ToSnakeCase(Kind.ToString());

    public override string ToString() => $"{Subject}: {Message}";

    public static string ToSnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }
}
