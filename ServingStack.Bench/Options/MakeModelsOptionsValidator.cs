namespace ServingStack.Bench.Options;

/// <summary>Checks <see cref="MakeModelsOptions"/> and returns every problem.</summary>
public static class MakeModelsOptionsValidator
{
    public static IReadOnlyList<string> Validate(MakeModelsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.OutputDirectory))
        {
            errors.Add("Option '--output' must name a folder.");
        }
        else if (File.Exists(options.OutputDirectory))
        {
            errors.Add($"Option '--output' must be a folder, but '{options.OutputDirectory}' is a file.");
        }

        if (options.Models.Count == 0)
        {
            errors.Add("Option '--models' must list at least one model.");
        }

        foreach (var unknown in options.Models.Where(m => !MakeModelsOptions.AllModels.Contains(m)))
        {
            errors.Add($"Option '--models': unknown model '{unknown}' (known: {string.Join(", ", MakeModelsOptions.AllModels)}).");
        }

        return errors;
    }
}
