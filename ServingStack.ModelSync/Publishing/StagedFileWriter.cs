using System.Buffers;
using System.Security.Cryptography;

namespace ServingStack.ModelSync.Publishing;

/// <summary>Writes one downloaded file into staging, hashing it in the same pass, and flushes it to disk.</summary>
public static class StagedFileWriter
{
    private const int BufferSize = 256 * 1024;

    /// <summary>
    /// Copies <paramref name="source"/> to a new file at <paramref name="destination"/>, computing SHA-256 (and MD5 when
    /// <paramref name="md5"/>) while writing, then fsyncs it. Stops as soon as the source sends more than
    /// <paramref name="expectedSize"/> bytes, so a wrong or hostile source cannot fill the disk.
    /// <paramref name="progress"/> gets the running byte count after every write.
    /// </summary>
    public static async Task<CopiedFile> CopyAsync(Stream source, string destination, long expectedSize, bool md5,
        Action<long>? progress, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
#pragma warning disable CA5351 // MD5 only checks an S3 ETag (S3's own choice), not a security boundary.
        using var etag = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
#pragma warning restore CA5351
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            await using var file = new FileStream(destination, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
            });
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                total += read;
                if (total > expectedSize)
                {
                    throw new SizeMismatchException(expectedSize, total, exceeded: true);
                }

                sha256.AppendData(buffer, 0, read);
                etag?.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                progress?.Invoke(total);
            }

            file.Flush(flushToDisk: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return new CopiedFile(total, Convert.ToHexStringLower(sha256.GetHashAndReset()), etag is null ? null : Convert.ToHexStringLower(etag.GetHashAndReset()));
    }
}
