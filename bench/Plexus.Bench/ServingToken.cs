using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Bench;

/// <summary>
/// A token of the serving scenario: its stream (4 bytes), its sequence number in the stream (4 bytes), and padding to
/// the token size. The reader checks both numbers, so a token delivered to the wrong stream or out of order is caught.
/// </summary>
internal static class ServingToken
{
    public const int HeaderBytes = 2 * sizeof(int);

    public static void Write(Span<byte> token, int stream, int sequence)
    {
        BinaryPrimitives.WriteInt32LittleEndian(token, stream);
        BinaryPrimitives.WriteInt32LittleEndian(token[sizeof(int)..], sequence);
        token[HeaderBytes..].Clear();
    }

    /// <summary>Whether <paramref name="token"/> is token <paramref name="sequence"/> of <paramref name="stream"/>, <paramref name="tokenBytes"/> long.</summary>
    public static bool Matches(ReadOnlySpan<byte> token, int stream, int sequence, int tokenBytes) =>
        token.Length == tokenBytes
        && BinaryPrimitives.ReadInt32LittleEndian(token) == stream
        && BinaryPrimitives.ReadInt32LittleEndian(token[sizeof(int)..]) == sequence;

    /// <summary>What a reader throws when a token is not the one expected.</summary>
    public static InvalidDataException Unexpected(int stream, int sequence) =>
        new($"Stream {stream}: token {sequence} has the wrong size, stream or sequence number.");

    /// <inheritdoc cref="Matches(ReadOnlySpan{byte}, int, int, int)"/>
    public static bool Matches(in ReadOnlySequence<byte> token, int stream, int sequence, int tokenBytes)
    {
        if (token.Length != tokenBytes)
        {
            return false;
        }

        if (token.IsSingleSegment)
        {
            return Matches(token.FirstSpan, stream, sequence, tokenBytes);
        }

        Span<byte> copy = stackalloc byte[ServingSettings.MaxTokenBytes];
        token.CopyTo(copy);
        return Matches(copy[..tokenBytes], stream, sequence, tokenBytes);
    }
}

/// <summary>
/// The request that opens a stream: which stream it is, how many tokens to answer with and how large, as a generate
/// request carries its token limit. 16 bytes: three little-endian 32-bit numbers and 4 reserved.
/// </summary>
internal readonly record struct ServingRequest(int Stream, int Tokens, int TokenBytes)
{
    public const int Bytes = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Stream);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Tokens);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], TokenBytes);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], 0);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Bytes];
        Write(bytes);
        return bytes;
    }

    /// <exception cref="InvalidDataException">The payload is not a serving request.</exception>
    public static ServingRequest Read(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length != Bytes)
        {
            throw new InvalidDataException($"A serving request has {Bytes} bytes, not {payload.Length}.");
        }

        Span<byte> bytes = stackalloc byte[Bytes];
        payload.CopyTo(bytes);
        return Read(bytes);
    }

    /// <inheritdoc cref="Read(in ReadOnlySequence{byte})"/>
    public static ServingRequest Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Bytes)
        {
            throw new InvalidDataException($"A serving request has {Bytes} bytes, not {bytes.Length}.");
        }

        var request = new ServingRequest(
            BinaryPrimitives.ReadInt32LittleEndian(bytes),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]));
        return request is { Stream: >= 0, Tokens: >= 1 and <= ServingSettings.MaxTokens, TokenBytes: >= ServingSettings.MinTokenBytes and <= ServingSettings.MaxTokenBytes }
            ? request
            : throw new InvalidDataException($"The serving request asks for stream {request.Stream}, {request.Tokens} tokens of {request.TokenBytes} bytes.");
    }
}
