using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// One frame waiting for the connection's writer loop. Simple headers are encoded by the writer from the fields; a
/// REQUEST's header is encoded by the sender into <see cref="Buffer"/>. Whatever <see cref="Buffer"/> holds goes
/// back to the pool once the frame is written (or dropped), and <see cref="Observer"/> then hears about it.
/// </summary>
internal readonly struct OutgoingFrame
{
    /// <summary>
    /// What a frame costs beyond its body while it waits: its slot in the connection's queue (this struct, about 64
    /// bytes), and once encoded its codec prefix and header (at most 30 bytes for a control frame with TwoPart).
    /// </summary>
    public const int Overhead = 64;

    public OutgoingFrame(FrameType type, byte flags, uint streamId, byte code = 0, ulong value = 0)
    {
        Type = type;
        Flags = flags;
        StreamId = streamId;
        Code = code;
        Value = value;
        Body = ReadOnlySequence<byte>.Empty;
    }

    public FrameType Type { get; }

    public byte Flags { get; init; }

    public uint StreamId { get; }

    public byte Code { get; }

    /// <summary>The type's number (credit increment, ping value); for a response's DATA or MESSAGES frame with a <see cref="Tail"/>, its sequence number in the stream.</summary>
    public ulong Value { get; init; }

    /// <summary>The body: payload bytes, or an error message.</summary>
    public ReadOnlySequence<byte> Body { get; init; }

    /// <summary>A rented array to return to the pool after writing: the body's owner, or a REQUEST's encoded header.</summary>
    public byte[]? Buffer { get; init; }

    /// <summary>The length of the encoded header at the start of <see cref="Buffer"/>, for a REQUEST; 0 otherwise.</summary>
    public int EncodedHeaderLength { get; init; }

    /// <summary>Told when the frame was written or dropped, for a sender that lent its own memory.</summary>
    public IFrameObserver? Observer { get; init; }

    /// <summary>
    /// For a MESSAGES frame, the messages: the writer loop seals the batch when it writes the frame, so the body is
    /// whatever the batch has grown to by then; <see cref="Body"/> is what it held when queued, as counted.
    /// </summary>
    public OutgoingBatch? Batch { get; init; }

    /// <summary>
    /// For a response's DATA frame that ends a message, or its MESSAGES frame, on a version-3 connection: the stream, which
    /// the writer asks as it encodes the frame whether the stream's end was folded into it (<see cref="Wire.EndStream"/>).
    /// </summary>
    public IResponseTail? Tail { get; init; }

    /// <summary>A frame that writes nothing and only returns <see cref="Buffer"/>, after every frame queued before it.</summary>
    public bool ReleaseOnly { get; init; }

    /// <summary>
    /// Whether the frame is a control frame: not REQUEST or DATA, so no credit bounds it, and the connection's
    /// <see cref="TcpTransportOptions.MaxQueuedControlBytes"/> does instead.
    /// </summary>
    public bool IsControl => Type is not (FrameType.Request or FrameType.Data or FrameType.Messages);

    /// <summary>
    /// The bytes the frame counts against its connection from being queued until the socket has taken it (for a
    /// MESSAGES frame, as queued: the writer loop counts what its batch gained later).
    /// </summary>
    public long QueuedBytes => ReleaseOnly ? 0 : Body.Length + EncodedHeaderLength + Overhead;
}
