namespace ServingStack.AppHost.Kubernetes;

/// <summary>One file of the published folder: its path relative to the folder ('/'-separated) and its text.</summary>
public sealed record KubernetesManifestFile(string Path, string Content);
