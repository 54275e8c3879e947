namespace ServingStack.ModelSync.Publishing;

/// <summary>What was written: the byte count and the digests computed on the way.</summary>
public sealed record CopiedFile(long Bytes, string Sha256, string? Md5);
