using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The Pod Security Standard "restricted" profile, which the Namespace enforces: the .NET images' non-root <c>app</c>
/// user (UID 1654), no privilege escalation, no capabilities, the runtime's seccomp profile, a read-only root file
/// system (writable paths are emptyDirs: <c>/tmp</c>, and the model store for the sync).
/// </summary>
internal static class PodSecurity
{
    /// <summary>The <c>app</c> user of mcr.microsoft.com/dotnet images (8.0 and later).</summary>
    public const long AppUserId = 1654;

    public static V1PodSecurityContext Pod() => new()
    {
        RunAsNonRoot = true,
        RunAsUser = AppUserId,
        RunAsGroup = AppUserId,
        // Volumes (the model emptyDir) are group-writable by the app user.
        FsGroup = AppUserId,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    public static V1SecurityContext Container() => new()
    {
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        RunAsNonRoot = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    /// <summary>A container's own writable <c>/tmp</c> (.NET's diagnostics socket and temp files live there).</summary>
    public static V1Volume TmpVolume(string name) => new() { Name = name, EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("256Mi") } };

    public static V1VolumeMount TmpMount(string volume) => new() { Name = volume, MountPath = "/tmp" };
}
