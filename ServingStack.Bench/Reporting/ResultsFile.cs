namespace ServingStack.Bench.Reporting;

/// <summary>results.json: every step recorded in the folder, oldest first.</summary>
public sealed record ResultsFile
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public List<ResultRecord> Records { get; init; } = [];
}
