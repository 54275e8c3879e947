namespace ServingStack.ModelSync.Sources;

/// <summary>Digests a source can vouch for a file with.</summary>
public enum ChecksumAlgorithm
{
    /// <summary>SHA-256: the HTTP index's <c>sha256</c>, or an S3 object's full-object SHA-256 checksum.</summary>
    Sha256,

    /// <summary>MD5: the ETag of an S3 object uploaded in one part without KMS or customer-key encryption.</summary>
    Md5,
}
