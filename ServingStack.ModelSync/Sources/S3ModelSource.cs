using System.Net;
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

    public S3ModelSource(IAmazonS3 client, string bucket, string prefix, string? endpoint = null, bool ownsClient = false)
    {
        _client = client;
        _bucket = bucket;
        _prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
        _ownsClient = ownsClient;
        Description = $"s3://{bucket}/{_prefix}" + (endpoint is null ? string.Empty : $" at {endpoint}");
    }

    public string Description { get; }

    /// <summary>A client for <paramref name="location"/>, configured from the option and the standard AWS variables.</summary>
    public static S3ModelSource Create(SourceLocation location, string? endpointOption, Func<string, string?>? environment = null)
    {
        var config = CreateConfig(endpointOption, environment ?? Environment.GetEnvironmentVariable, out var endpoint);
        return new S3ModelSource(new AmazonS3Client(config), location.Bucket!, location.Prefix, endpoint, ownsClient: true);
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

    public async Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken)
    {
        var files = new List<SourceFile>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix };
        try
        {
            do
            {
                var response = await _client.ListObjectsV2Async(request, cancellationToken);
                foreach (var obj in response.S3Objects ?? [])
                {
                    // "Folder" markers some tools create are not files.
                    if (obj.Key.EndsWith('/') || !obj.Key.StartsWith(_prefix, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    files.Add(new SourceFile(obj.Key[_prefix.Length..], obj.Size ?? 0) { Location = obj.Key });
                }

                request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
            }
            while (request.ContinuationToken is not null);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw new ModelSourceException($"listing {Description} failed: {Describe(ex)}", ex);
        }

        return files;
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
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw new ModelSourceException($"reading s3://{_bucket}/{file.Location} failed: {Describe(ex)}", ex);
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

    private static string Describe(Exception ex) => ex switch
    {
        AmazonServiceException { StatusCode: HttpStatusCode.NotFound } s => $"not found ({s.ErrorCode ?? "404"}: {s.Message})",
        AmazonServiceException { StatusCode: HttpStatusCode.Forbidden } s => $"access denied ({s.ErrorCode ?? "403"}: {s.Message}); check the AWS credentials",
        AmazonServiceException s => $"{s.ErrorCode ?? ((int)s.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {s.Message}",
        _ => ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) ? $"{ex.Message} ({inner.Message})" : ex.Message,
    };

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
