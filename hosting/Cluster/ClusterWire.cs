using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// Frames on the seed's port: a 4-byte big-endian length, then that many bytes of JSON. A join connection begins with
/// <see cref="JoinMagic"/>; anything else there is TLS (a member's control connection). Sealed payloads are AES-256-GCM
/// under the join's session key: 12-byte nonce, ciphertext, 16-byte tag.
/// </summary>
internal static class ClusterWire
{
    public const int MaxFrame = 256 * 1024;
    public static readonly byte[] JoinMagic = "PXJ1"u8.ToArray();
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads one frame; null when the peer closed the connection before it.</summary>
    /// <exception cref="InvalidDataException">The frame is too large or not the expected JSON.</exception>
    public static async Task<T?> ReadAsync<T>(Stream stream, CancellationToken cancellationToken)
        where T : class
    {
        var header = new byte[4];
        if (!await FillAsync(stream, header, cancellationToken))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxFrame)
        {
            throw new InvalidDataException($"a frame of {length} bytes is larger than the {MaxFrame} this protocol allows");
        }

        var body = new byte[length];
        if (!await FillAsync(stream, body, cancellationToken))
        {
            throw new InvalidDataException("the connection closed in the middle of a frame");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) ?? throw new InvalidDataException("the frame is JSON null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"the frame is not the expected message: {ex.Message}", ex);
        }
    }

    public static async Task<bool> FillAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public static byte[] Seal(byte[] key, byte[] plaintext)
    {
        var sealedBytes = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedBytes.AsSpan(0, 12), plaintext, sealedBytes.AsSpan(12, plaintext.Length), sealedBytes.AsSpan(12 + plaintext.Length));
        return sealedBytes;
    }

    /// <exception cref="CryptographicException">The payload was not sealed with this key, or was changed on the way.</exception>
    public static byte[] Open(byte[] key, byte[] sealedBytes)
    {
        if (sealedBytes.Length < 28)
        {
            throw new CryptographicException("The sealed payload is too short.");
        }

        var plaintext = new byte[sealedBytes.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(12, plaintext.Length), sealedBytes.AsSpan(12 + plaintext.Length), plaintext);
        return plaintext;
    }

    public static byte[] SealJson<T>(byte[] key, T message) => Seal(key, JsonSerializer.SerializeToUtf8Bytes(message, Json));

    public static T OpenJson<T>(byte[] key, byte[] sealedBytes)
        where T : class =>
        JsonSerializer.Deserialize<T>(Open(key, sealedBytes), Json) ?? throw new InvalidDataException("the sealed message is JSON null");
}
