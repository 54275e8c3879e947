namespace ServingStack.Bench.Options;

/// <summary>Checks <see cref="InprocOptions"/> as a whole and returns every problem.</summary>
public static class InprocOptionsValidator
{
    public static IReadOnlyList<string> Validate(InprocOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.ModelFile.Length > 0 && !File.Exists(options.ModelFile))
        {
            errors.Add($"Option '--model-file' must be an existing .onnx file; '{options.ModelFile}' does not exist.");
        }

        if (options.ModelName is { Length: 0 })
        {
            errors.Add("Option '--model-name' must not be empty.");
        }

        if (options.Provider != ExecutionProvider.Cuda && options.DeviceId != 0)
        {
            errors.Add("Option '--device-id' only applies to '--provider cuda'.");
        }

        errors.AddRange(options.Load.Validate());
        return errors;
    }
}
