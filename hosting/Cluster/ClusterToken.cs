using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// The cluster token: 32 random bytes that every member knows. It never crosses the wire: each side proves it knows it
/// with an HMAC over both sides' fresh nonces, and the rest of a join is sealed with a key derived from it.
/// </summary>
internal sealed class ClusterToken
{
    public const int Length = 32;
    private readonly byte[] _secret;

    private ClusterToken(byte[] secret)
    {
        _secret = secret;
    }

    public static ClusterToken Generate() => new(RandomNumberGenerator.GetBytes(Length));

    public static bool TryParse(string text, [NotNullWhen(true)] out ClusterToken? token, out string problem)
    {
        token = null;
        text = text.Trim();
        if (text.Length != Length * 2)
        {
            problem = $"has {text.Length} characters; it must be {Length * 2} hex digits ({Length} bytes), as the seed prints it.";
            return false;
        }

        try
        {
            token = new ClusterToken(Convert.FromHexString(text));
            problem = string.Empty;
            return true;
        }
        catch (FormatException)
        {
            problem = $"is not hex; it must be {Length * 2} hex digits ({Length} bytes), as the seed prints it.";
            return false;
        }
    }

    public string ToHex() => Convert.ToHexStringLower(_secret);

    /// <summary>An HMAC-SHA256 of <paramref name="label"/> and <paramref name="parts"/>, each length-prefixed so that no two inputs collide.</summary>
    public byte[] Proof(string label, params ReadOnlySpan<byte[]> parts)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret);
        Append(hmac, Encoding.UTF8.GetBytes(label));
        foreach (var part in parts)
        {
            Append(hmac, part);
        }

        return hmac.GetHashAndReset();
    }

    /// <summary>Checks a proof in constant time.</summary>
    public bool Verify(byte[] proof, string label, params ReadOnlySpan<byte[]> parts) =>
        CryptographicOperations.FixedTimeEquals(proof, Proof(label, parts));

    /// <summary>The AES-256-GCM key of one join, bound to both nonces.</summary>
    public byte[] SessionKey(byte[] nodeNonce, byte[] seedNonce) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, [.. nodeNonce, .. seedNonce], Encoding.UTF8.GetBytes("plexus-join-1 session"));

    private static void Append(IncrementalHash hash, byte[] part)
    {
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, part.Length);
        hash.AppendData(length);
        hash.AppendData(part);
    }
}
