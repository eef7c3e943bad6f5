using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>A minimal codec: big-endian u32 header length, u32 body length, then the two parts.</summary>
internal sealed class LengthPrefixCodec : IFrameCodec
{
    private const int PrefixLength = 8;

    public string Name => "length-prefix";

    public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame)
    {
        frame = default;
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryReadBigEndian(out int headerLength) || !reader.TryReadBigEndian(out int bodyLength))
        {
            return false;
        }

        if ((uint)headerLength > (uint)limits.MaxHeaderLength)
        {
            throw PlexusException.TooLarge("frame header", (uint)headerLength, limits.MaxHeaderLength, "MaxHeaderLength");
        }

        if ((uint)bodyLength > (uint)limits.MaxBodyLength)
        {
            throw PlexusException.TooLarge("frame body", (uint)bodyLength, limits.MaxBodyLength, "MaxBodyLength");
        }

        if (reader.Remaining < (long)headerLength + bodyLength)
        {
            return false;
        }

        var header = input.Slice(reader.Position, headerLength);
        var body = input.Slice(header.End, bodyLength);
        frame = new Frame(header, body);
        input = input.Slice(body.End);
        return true;
    }

    public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var prefix = output.GetSpan(PrefixLength);
        BinaryPrimitives.WriteInt32BigEndian(prefix, header.Length);
        BinaryPrimitives.WriteInt32BigEndian(prefix[4..], checked((int)body.Length));
        output.Advance(PrefixLength);
        output.Write(header);
        foreach (var segment in body)
        {
            output.Write(segment.Span);
        }
    }
}
