using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Options;

namespace Plexus.Codec.TwoPart.Tests;

/// <summary>Builds TwoPart codecs and encoded frames for the codec tests.</summary>
internal static class TwoPartFrames
{
    public static TwoPartCodec Codec(bool checksum) =>
        new(Options.Create(new TwoPartCodecOptions { Checksum = checksum }));

    public static byte[] Encode(byte[] header, byte[] body, bool checksum)
    {
        var output = new ArrayBufferWriter<byte>();
        Codec(checksum).Write(header, new ReadOnlySequence<byte>(body), output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A prefix written by hand, for frames the codec itself would never produce.</summary>
    public static byte[] Prefix(uint headerLength, uint bodyLength, uint flags, uint crc)
    {
        var prefix = new byte[TwoPartCodec.PrefixLength];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, headerLength);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(4), bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(12), crc);
        return prefix;
    }

    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
