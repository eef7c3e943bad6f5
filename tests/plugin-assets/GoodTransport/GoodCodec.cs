using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Test.GoodTransport;

/// <summary>A plugin codec: a 4-byte header length, a 4-byte body length, then both parts.</summary>
internal sealed class GoodCodec : IFrameCodec
{
    public string Name => "good-codec";

    public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame)
    {
        frame = default;
        if (input.Length < 8)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[8];
        input.Slice(0, 8).CopyTo(prefix);
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]);
        if (headerLength > limits.MaxHeaderLength || bodyLength > limits.MaxBodyLength)
        {
            throw PlexusException.TooLarge("frame", (long)headerLength + bodyLength, limits.MaxBodyLength, "the good codec's limits");
        }

        if (input.Length < 8L + headerLength + bodyLength)
        {
            return false;
        }

        frame = new Frame(input.Slice(8, headerLength), input.Slice(8 + headerLength, bodyLength));
        input = input.Slice(8L + headerLength + bodyLength);
        return true;
    }

    public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
        var prefix = output.GetSpan(8);
        BinaryPrimitives.WriteInt32LittleEndian(prefix, header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[4..], (int)body.Length);
        output.Advance(8);
        output.Write(header);
        foreach (var segment in body)
        {
            output.Write(segment.Span);
        }
    }
}
