using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Plexus.Transport.Quic;

/// <summary>Writes the frames of a request stream (DATA, ERROR) and the control messages, and reads ERROR frames back.</summary>
internal static class QuicFrames
{
    /// <summary>Writes a DATA frame through the codec.</summary>
    public static void WriteData(IFrameCodec codec, IBufferWriter<byte> output, byte flags, in ReadOnlySequence<byte> body)
    {
        ReadOnlySpan<byte> header = [QuicWire.Data, flags];
        codec.Write(header, body, output);
    }

    /// <summary>Writes a MESSAGES frame of <paramref name="count"/> messages: <paramref name="body"/> holds each behind its u32 length.</summary>
    public static void WriteMessages(IFrameCodec codec, IBufferWriter<byte> output, int count, in ReadOnlySequence<byte> body)
    {
        Span<byte> header = stackalloc byte[QuicWire.MessagesHeaderLength];
        header[0] = QuicWire.Messages;
        header[1] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(header[QuicWire.CommonHeaderLength..], (uint)count);
        codec.Write(header, body, output);
    }

    /// <summary>Writes an ERROR frame for <paramref name="error"/>: its code, its retry flag and its message (at most 4 KiB).</summary>
    public static void WriteError(IFrameCodec codec, IBufferWriter<byte> output, PlexusException error)
    {
        ReadOnlySpan<byte> header = [QuicWire.Error, error.BeforeFirstByte ? QuicWire.BeforeFirstByte : (byte)0, (byte)error.Code];
        codec.Write(header, new ReadOnlySequence<byte>(Text(error.Message)), output);
    }

    /// <summary>The <see cref="PlexusException"/> an ERROR frame describes.</summary>
    /// <exception cref="PlexusException">The frame is malformed (ProtocolError).</exception>
    public static PlexusException ReadError(in ReadOnlySequence<byte> header, in ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(header);
        reader.Advance(1);
        if (!reader.TryRead(out var flags) || !reader.TryRead(out var code) || reader.Remaining != 0)
        {
            throw PlexusException.Protocol($"An ERROR frame header is {header.Length} bytes; it must be {QuicWire.ErrorHeaderLength}.");
        }

        if ((flags & ~QuicWire.BeforeFirstByte) != 0)
        {
            throw PlexusException.Protocol($"An ERROR frame has unknown flags 0x{flags:x2}.");
        }

        var message = body.IsEmpty ? "(no message)" : Encoding.UTF8.GetString(body);
        var errorCode = (PlexusErrorCode)code;
        if (!Enum.IsDefined(errorCode))
        {
            return new PlexusException(PlexusErrorCode.ProtocolError, $"The server answered with unknown error code {code}: {message}");
        }

        return new PlexusException(errorCode, message) { BeforeFirstByte = (flags & QuicWire.BeforeFirstByte) != 0 };
    }

    /// <summary>Writes a GOAWAY control message with a reason for a person.</summary>
    public static void WriteGoAway(IBufferWriter<byte> output, string reason)
    {
        var text = Text(reason);
        var span = output.GetSpan(QuicWire.ControlPrefixLength + text.Length);
        span[0] = QuicWire.GoAway;
        BinaryPrimitives.WriteUInt32LittleEndian(span[1..], (uint)text.Length);
        text.CopyTo(span[QuicWire.ControlPrefixLength..]);
        output.Advance(QuicWire.ControlPrefixLength + text.Length);
    }

    // UTF-8, cut to the protocol's limit at a character boundary.
    private static byte[] Text(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        if (bytes.Length <= QuicWire.MaxMessageBytes)
        {
            return bytes;
        }

        var end = QuicWire.MaxMessageBytes;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80)
        {
            end--;
        }

        return bytes[..end];
    }
}
