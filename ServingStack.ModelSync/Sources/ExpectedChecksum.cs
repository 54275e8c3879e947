using System.Globalization;

namespace ServingStack.ModelSync.Sources;

/// <summary>The digest a file must have, as lower-case hex.</summary>
public sealed record ExpectedChecksum
{
    private ExpectedChecksum(ChecksumAlgorithm algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public ChecksumAlgorithm Algorithm { get; }

    public string Hex { get; }

    /// <summary>Where the value came from, for messages: "the index", "the object's SHA-256 checksum", "the ETag".</summary>
    public string Origin { get; init; } = "the source";

    public string AlgorithmName => Algorithm == ChecksumAlgorithm.Sha256 ? "SHA-256" : "MD5";

    public static ExpectedChecksum Sha256(string hex, string origin) => Create(ChecksumAlgorithm.Sha256, hex, 64, origin);

    public static ExpectedChecksum Md5(string hex, string origin) => Create(ChecksumAlgorithm.Md5, hex, 32, origin);

    public static bool IsHex(string? text, int length) =>
        text is not null && text.Length == length && text.All(char.IsAsciiHexDigit);

    public override string ToString() => $"{AlgorithmName} {Hex} ({Origin})";

    private static ExpectedChecksum Create(ChecksumAlgorithm algorithm, string hex, int length, string origin)
    {
        if (!IsHex(hex, length))
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"'{hex}' is not {length} hex digits"));
        }

        return new ExpectedChecksum(algorithm, hex.ToLowerInvariant()) { Origin = origin };
    }
}
