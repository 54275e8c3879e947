using System.Net;
using System.Net.Sockets;
using System.Xml;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Util;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServingStack.ModelSync.Sources;

/// <summary>
/// <c>s3://bucket/prefix</c> on AWS or any S3-compatible store. Credentials come from the SDK's standard chain
/// (<c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, profiles, web identity, instance roles). A custom endpoint
/// (<c>--s3-endpoint</c>, else <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c>) uses path-style addressing.
/// Each object is checked against its full-object SHA-256 checksum when it has one, else against its ETag when that
/// is the MD5 of a single-part upload.
/// </summary>
public sealed class S3ModelSource : IModelSource
{
    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly TimeSpan _noProgressTimeout;
    private readonly TimeProvider _time;

    /// <param name="noProgressTimeout">How long one listing page may take to arrive before the listing fails.</param>
    public S3ModelSource(IAmazonS3 client, string bucket, string prefix, string? endpoint = null, bool ownsClient = false,
        TimeSpan? noProgressTimeout = null, TimeProvider? time = null)
    {
        _client = client;
        _bucket = bucket;
        _prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
        _ownsClient = ownsClient;
        _noProgressTimeout = noProgressTimeout ?? Configuration.ModelSyncOptions.DefaultNoProgressTimeout;
        _time = time ?? TimeProvider.System;
        Description = $"s3://{bucket}/{_prefix}" + (endpoint is null ? string.Empty : $" at {endpoint}");
    }

    public string Description { get; }

    /// <summary>A client for <paramref name="location"/>, configured from the option and the standard AWS variables.</summary>
    public static S3ModelSource Create(SourceLocation location, string? endpointOption, Func<string, string?>? environment = null,
        TimeSpan? noProgressTimeout = null, TimeProvider? time = null)
    {
        var config = CreateConfig(endpointOption, environment ?? Environment.GetEnvironmentVariable, out var endpoint);
        return new S3ModelSource(new AmazonS3Client(config), location.Bucket!, location.Prefix, endpoint, ownsClient: true, noProgressTimeout, time);
    }

    /// <summary>The SDK configuration: endpoint and path style for S3-compatible stores; checksums only where S3 requires them.</summary>
    public static AmazonS3Config CreateConfig(string? endpointOption, Func<string, string?> environment, out string? endpoint)
    {
        endpoint = FirstNonEmpty(endpointOption, environment("AWS_ENDPOINT_URL_S3"), environment("AWS_ENDPOINT_URL"));
        var region = FirstNonEmpty(environment("AWS_REGION"), environment("AWS_DEFAULT_REGION"));
        var config = new AmazonS3Config
        {
            // We verify every byte ourselves (SHA-256 or MD5 in one pass while writing); the SDK's own response
            // validation would only fail the stream with a less precise message.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return config;
    }

    /// <summary>
    /// Every object under the prefix, page by page. A store that answers garbage (not XML, an object without a key),
    /// loops (a continuation token seen before) or lists without end fails the listing with the reason; each page
    /// must arrive within the no-progress timeout.
    /// </summary>
    public async Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken)
    {
        var files = new List<SourceFile>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix };
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        var listed = 0;
        var pages = 0;
        do
        {
            var response = await ListPageAsync(request, cancellationToken);
            foreach (var obj in response.S3Objects ?? [])
            {
                if (++listed > SourceLimits.MaxFiles)
                {
                    throw new ModelSourceException(SourceLimits.TooManyFiles($"listing {Description}"));
                }

                if (string.IsNullOrEmpty(obj?.Key))
                {
                    throw new ModelSourceException($"listing {Description} failed: not a valid S3 listing (an object without a key)");
                }

                // "Folder" markers some tools create are not files.
                if (obj.Key.EndsWith('/') || !obj.Key.StartsWith(_prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var path = obj.Key[_prefix.Length..];
                files.Add(new SourceFile(path, obj.Size ?? -1)
                {
                    Location = obj.Key,
                    Problem = obj.Size is null or < 0 ? $"{ModelFilePath.Display(path)}: the listing gives no valid size ({obj.Size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})" : null,
                });
            }

            string? next = null;
            if (response.IsTruncated == true)
            {
                next = response.NextContinuationToken;
                if (string.IsNullOrEmpty(next))
                {
                    throw new ModelSourceException($"listing {Description} failed: not a valid S3 listing (truncated, without a continuation token)");
                }

                if (!tokens.Add(next) || ++pages >= SourceLimits.MaxPages)
                {
                    throw new ModelSourceException($"listing {Description} failed: the store keeps listing (a continuation token seen before, or more than {SourceLimits.MaxPages} pages)");
                }
            }

            request.ContinuationToken = next;
        }
        while (request.ContinuationToken is not null);

        return files;
    }

    private async Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken)
    {
        using var watchdog = new ProgressWatchdog(_noProgressTimeout, _time, cancellationToken);
        try
        {
            return await _client.ListObjectsV2Async(request, watchdog.Token) ??
                throw new ModelSourceException($"listing {Description} failed: the store sent no listing");
        }
        catch (Exception ex) when (watchdog.Expired)
        {
            throw new ModelSourceException($"listing {Description} failed: {watchdog.Describe()}", ex) { IsTransient = true };
        }
        catch (Exception ex) when (IsGarbage(ex))
        {
            throw new ModelSourceException($"listing {Description} failed: not a valid S3 listing ({Innermost(ex)})", ex);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException)
        {
            throw new ModelSourceException($"listing {Description} failed: {Describe(ex)}", ex) { IsTransient = IsTransient(ex) };
        }
        catch (Exception ex) when (ex is not (ModelSourceException or OperationCanceledException))
        {
            // Whatever else the SDK lets through must fail the listing, never the process.
            throw new ModelSourceException($"listing {Description} failed: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    public async Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _bucket,
                Key = file.Location,
                // Asks S3 to send the object's stored checksum (x-amz-checksum-sha256) with the body.
                ChecksumMode = ChecksumMode.ENABLED,
            }, cancellationToken);
        }
        catch (Exception ex) when (IsGarbage(ex))
        {
            throw new ModelSourceException($"reading s3://{_bucket}/{file.Location} failed: the store's answer is not valid ({Innermost(ex)})", ex);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException)
        {
            throw new ModelSourceException($"reading s3://{_bucket}/{file.Location} failed: {Describe(ex)}", ex) { IsTransient = IsTransient(ex) };
        }

        if (response.ResponseStream is null)
        {
            response.Dispose();
            throw new ModelSourceException($"reading s3://{_bucket}/{file.Location} failed: the store sent no body");
        }

        // The SDK wraps the body in its own MD5 (or checksum) validator, which fails the last read with "Expected hash
        // not equal to calculated hash" and nothing more. We verify the same digest in the same pass and report what
        // was expected and what arrived, so the raw body is read instead.
        var body = response.ResponseStream is WrapperStream wrapped ? wrapped.GetNonWrapperBaseStream() : response.ResponseStream;
        var checksum = ChecksumOf(response.ChecksumSHA256, response.ChecksumType?.Value, response.ETag,
            response.ServerSideEncryptionMethod?.Value, response.ServerSideEncryptionCustomerMethod?.Value) ?? file.Checksum;
        return new OpenedSourceFile(body, response)
        {
            Length = response.ContentLength,
            Checksum = checksum,
            UnverifiableReason = checksum is null
                ? $"ETag {response.ETag} is not a single-part MD5 (a multipart upload, or SSE-KMS/SSE-C) and the object has no full-object SHA-256 checksum; upload with --checksum-algorithm SHA256 to verify it"
                : null,
        };
    }

    /// <summary>
    /// The digest S3 vouches for: the SHA-256 checksum when it covers the whole object (not a multipart upload's
    /// checksum of checksums), else the ETag when it is a single-part upload's MD5 (32 hex digits, no "-parts" suffix,
    /// and not SSE-KMS or SSE-C, whose ETags are not MD5s); null when neither can be checked.
    /// </summary>
    public static ExpectedChecksum? ChecksumOf(string? sha256Base64, string? checksumType, string? etag, string? serverSideEncryption, string? customerKeyAlgorithm)
    {
        if (!string.IsNullOrEmpty(sha256Base64) && !sha256Base64.Contains('-', StringComparison.Ordinal) &&
            !string.Equals(checksumType, "COMPOSITE", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var bytes = Convert.FromBase64String(sha256Base64);
                if (bytes.Length == 32)
                {
                    return ExpectedChecksum.Sha256(Convert.ToHexStringLower(bytes), "the object's SHA-256 checksum");
                }
            }
            catch (FormatException)
            {
                // Not a checksum we can read; fall through to the ETag.
            }
        }

        var tag = etag?.Trim().Trim('"');
        var encryptedWithKey = serverSideEncryption is { } sse && sse.StartsWith("aws:kms", StringComparison.OrdinalIgnoreCase);
        if (ExpectedChecksum.IsHex(tag, 32) && !encryptedWithKey && string.IsNullOrEmpty(customerKeyAlgorithm))
        {
            return ExpectedChecksum.Md5(tag!, "the single-part ETag");
        }

        return null;
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static string Describe(Exception ex) => SourceText.Display(ex switch
    {
        AmazonServiceException { StatusCode: HttpStatusCode.NotFound } s => $"not found ({s.ErrorCode ?? "404"}: {s.Message})",
        AmazonServiceException { StatusCode: HttpStatusCode.Forbidden } s => $"access denied ({s.ErrorCode ?? "403"}: {s.Message}); check the AWS credentials",
        AmazonServiceException s => $"{s.ErrorCode ?? ((int)s.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {s.Message}",
        _ => ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) ? $"{ex.Message} ({inner.Message})" : ex.Message,
    });

    /// <summary>An answer that is not S3's: the SDK's XML reader or unmarshaller gave up on it.</summary>
    private static bool IsGarbage(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is XmlException or AmazonUnmarshallingException)
            {
                return true;
            }
        }

        return false;
    }

    private static string Innermost(Exception ex)
    {
        var e = ex;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return SourceText.Display($"{e.GetType().Name}: {e.Message}");
    }

    /// <summary>Throttling, server errors and dropped connections; the SDK has retried those already, but a later try may pass.</summary>
    private static bool IsTransient(Exception ex) => ex switch
    {
        AmazonServiceException s => s.Retryable is not null || (int)s.StatusCode is 408 or 429 or >= 500,
        AmazonClientException or HttpRequestException or IOException or SocketException => true,
        _ => false,
    };

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
