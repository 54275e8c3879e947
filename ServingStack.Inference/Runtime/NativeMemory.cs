using System.Runtime.InteropServices;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// Gives memory freed by ONNX Runtime back to the operating system. glibc keeps freed heap pages for reuse, so a
/// server that loads and unloads models would otherwise hold the peak of every load: the resident-memory growth over
/// reloads that TF Serving users know.
/// </summary>
internal static partial class NativeMemory
{
    private static bool s_unavailable;

    public static void TrimFreedMemory()
    {
        if (s_unavailable || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl, for one): nothing to trim with.
            s_unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
