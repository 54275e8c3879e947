namespace ServingStack.Bench.Reporting;

/// <summary>Ends a run: appends its records to the folder's results, rewrites the three files, shows the table.</summary>
public static class ResultsPublisher
{
    public static void Publish(ResultsStore store, ResultsFile existing, IReadOnlyList<ResultRecord> records)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            ConsoleOutput.Warning("No step finished; nothing was written.");
            return;
        }

        var all = existing with { Records = [.. existing.Records, .. records] };
        store.Save(all);
        ConsoleOutput.ResultsTable(records);
        var earlier = existing.Records.Count == 0 ? string.Empty : $" (with {existing.Records.Count} earlier records)";
        ConsoleOutput.Info($"Wrote {store.JsonPath}, {Path.GetFileName(store.CsvPath)} and {Path.GetFileName(store.ChartPath)}{earlier}.");
    }
}
