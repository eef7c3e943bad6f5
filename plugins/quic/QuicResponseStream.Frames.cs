using System.Buffers;
using System.Buffers.Binary;
using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>Parsing the server's frames: DATA and ERROR, and MESSAGES checked whole and then handed out one message at a time.</summary>
internal sealed partial class QuicResponseStream
{
    // Parses frames from the held buffer until a message is complete, the stream ends (ERROR) or more bytes are needed.
    private bool TryTakeMessage()
    {
        if (_packedLeft > 0)
        {
            TakePacked();
            return true;
        }

        while (true)
        {
            Frame frame;
            try
            {
                if (!_session.Codec.TryRead(ref _buffer, _session.LocalLimits, out frame))
                {
                    return false;
                }
            }
            catch (PlexusException malformed)
            {
                Violation(malformed.Message);
                return false;
            }

            var header = new SequenceReader<byte>(frame.Header);
            if (!header.TryRead(out var type) || !header.TryRead(out var flags))
            {
                Violation($"a frame header of {frame.Header.Length} bytes is shorter than the {QuicWire.CommonHeaderLength} every header has");
                return false;
            }

            if (type == QuicWire.Error)
            {
                PlexusException error;
                try
                {
                    error = QuicFrames.ReadError(frame.Header, frame.Body);
                }
                catch (PlexusException malformed)
                {
                    Violation(malformed.Message);
                    return false;
                }

                Finish(error);
                return false;
            }

            if (type == QuicWire.Messages)
            {
                if (TryStartPacked(header, flags, frame.Body))
                {
                    TakePacked();
                    return true;
                }

                return false;
            }

            if (type != QuicWire.Data || header.Remaining != 0 || (flags & ~QuicWire.EndMessage) != 0)
            {
                Violation($"the server sent a frame of type {type} with flags 0x{flags:x2} and a {frame.Header.Length}-byte header; only DATA (flag END_MESSAGE) and ERROR go to a client");
                return false;
            }

            var endMessage = (flags & QuicWire.EndMessage) != 0;
            var length = _assembly.Length + frame.Body.Length;
            if (length > _session.MaxMessageBytes)
            {
                Abort(PlexusException.TooLarge("response message", length, _session.MaxMessageBytes, QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxPayloadBytes))), QuicErrorCodes.Cancelled);
                return false;
            }

            if (endMessage && _assembly.IsEmpty)
            {
                // A whole message in one frame: a view of the stream's buffer, consumed once the caller moves on.
                _current = frame.Body;
                return true;
            }

            _assembly.Append(frame.Body, _assembly.IsEmpty && endMessage ? (int)frame.Body.Length : 16 * 1024);
            if (endMessage)
            {
                _assembled = _assembly.Take();
                _currentAssembled = true;
                _current = _assembled.ToSequence();
                return true;
            }
        }
    }

    // Checks a MESSAGES frame as a whole before any of its messages is handed out: a bad length fails this stream only.
    private bool TryStartPacked(SequenceReader<byte> header, byte flags, in ReadOnlySequence<byte> body)
    {
        if (_session.Version < QuicWire.PackedVersion)
        {
            Violation($"the server sent a MESSAGES frame on a connection of protocol version {_session.Version}; they exist from version {QuicWire.PackedVersion} on");
            return false;
        }

        if (flags != 0 || !header.TryReadLittleEndian(out int rawCount) || header.Remaining != 0 || rawCount == 0)
        {
            Violation($"a MESSAGES frame has flags 0x{flags:x2} and a {header.Length}-byte header; it must have no flags and a {QuicWire.MessagesHeaderLength}-byte header declaring at least one message");
            return false;
        }

        if (!_assembly.IsEmpty)
        {
            Violation($"a MESSAGES frame arrived while {_assembly.Length} bytes of a message waited for the rest of it");
            return false;
        }

        var count = (uint)rawCount;
        if (PackedMessages.Check(body, count, out var largest) is { } problem)
        {
            Violation(problem);
            return false;
        }

        if (largest > _session.MaxMessageBytes)
        {
            Abort(PlexusException.TooLarge("response message", largest, _session.MaxMessageBytes, QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxPayloadBytes))), QuicErrorCodes.Cancelled);
            return false;
        }

        _packed = body;
        _packedLeft = (int)count;
        return true;
    }

    // The next message of the MESSAGES frame being read, as a view of the stream's buffer.
    private void TakePacked()
    {
        var packed = _packed;
        uint length;
        if (packed.FirstSpan.Length >= QuicWire.MessagePrefixBytes)
        {
            length = BinaryPrimitives.ReadUInt32LittleEndian(packed.FirstSpan);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[QuicWire.MessagePrefixBytes];
            packed.Slice(0, QuicWire.MessagePrefixBytes).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        }

        _current = packed.Slice(QuicWire.MessagePrefixBytes, length);
        _packed = packed.Slice(QuicWire.MessagePrefixBytes + length);
        _packedLeft--;
    }

    // The server's FIN, with nothing left to parse: the normal end, unless it cut a frame or a message short.
    private void EndOfStream()
    {
        if (!_buffer.IsEmpty)
        {
            Violation("the stream ended inside a frame");
        }
        else if (!_assembly.IsEmpty)
        {
            Violation("the stream ended inside a response message");
        }
        else
        {
            Finish(null);
        }
    }
}
