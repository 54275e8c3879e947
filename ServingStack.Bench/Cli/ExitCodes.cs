namespace ServingStack.Bench.Cli;

/// <summary>Process exit codes.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run started but failed: the server did not answer, a model could not be loaded, every request failed.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong (every problem is printed); nothing was sent.</summary>
    public const int BadArguments = 2;

    /// <summary>Interrupted with Ctrl+C; results measured so far are still written.</summary>
    public const int Interrupted = 130;
}
