using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Whole response messages of one stream, queued as one MESSAGES frame that keeps growing until the connection's
/// writer loop takes it: a handler that flushes every message while the socket is busy adds to the frame already
/// waiting in the queue instead of queueing one of its own. The messages lie back to back in the response writer's
/// buffer, each behind its 4-byte length, so the frame's body is one slice of it and nothing is copied. Only the
/// writer that owns it grows it; the writer loop seals it when it takes it, after which it takes no more, and marks it
/// written once it has copied it out (<see cref="IsWritten"/>), after which it may be filled again from scratch. Count,
/// end and the seal share one word, so both sides need one atomic operation each. The writer takes credit for a batch
/// once, when it fills it, with a reserve beyond its first messages (<see cref="BatchReserve"/>): later messages are
/// paid from that reserve without touching the windows, and the writer loop gives back what the sealed batch did not
/// use, so credit stays exact (each message costs its length + 16) however the messages were grouped.
/// </summary>
internal sealed class OutgoingBatch
{
    private const long SealedBit = 1L << 62;

    // Sealed bit, then the message count (30 bits), then the end offset in Buffer (32 bits).
    private long _state;

    // Set by the writer loop once the sealed body is copied out of Buffer; cleared when the batch is filled again.
    private int _written;

    /// <summary>The buffer the messages are in; set before the batch is queued and unchanged until it is sealed.</summary>
    public byte[] Buffer { get; private set; } = [];

    /// <summary>Where the first message's length starts in <see cref="Buffer"/>.</summary>
    public int Start { get; private set; }

    /// <summary>The credit taken for the batch, from both the stream's and the connection's window.</summary>
    public int Reserved { get; private set; }

    /// <summary>The stream's window, to which the writer loop returns the credit the sealed batch did not use.</summary>
    public CreditWindow? StreamWindow { get; private set; }

    /// <summary>Whether the writer loop has taken the batch (or the batch was never queued): it can take no more messages.</summary>
    public bool IsSealed => (Volatile.Read(ref _state) & SealedBit) != 0;

    /// <summary>
    /// Whether the writer loop has copied the sealed batch's messages out of <see cref="Buffer"/>: that part of the
    /// buffer may be written again, and the batch filled again.
    /// </summary>
    public bool IsWritten => Volatile.Read(ref _written) != 0;

    /// <summary>
    /// Starts the batch over with <paramref name="count"/> messages in <paramref name="buffer"/> from
    /// <paramref name="start"/> to <paramref name="end"/>, paid from <paramref name="reserved"/> credit.
    /// </summary>
    public void Fill(byte[] buffer, int start, int end, int count, CreditWindow streamWindow, int reserved)
    {
        Buffer = buffer;
        Start = start;
        StreamWindow = streamWindow;
        Reserved = reserved;
        _written = 0;
        Volatile.Write(ref _state, Pack(count, end));
    }

    /// <summary>Grows the batch from <paramref name="count"/> messages ending at <paramref name="end"/> to the new figures, unless it was sealed.</summary>
    /// <returns><see langword="false"/> when the writer loop took the batch first; then it holds what it held before.</returns>
    public bool TryGrow(int count, int end, int newCount, int newEnd)
    {
        var expected = Pack(count, end);
        return Interlocked.CompareExchange(ref _state, Pack(newCount, newEnd), expected) == expected;
    }

    /// <summary>Takes the batch for writing: it grows no more, and what it holds is final.</summary>
    public Taken Seal()
    {
        // Everything is read before sealing: once sealed, the owner may fill the batch again.
        var buffer = Buffer;
        var start = Start;
        var reserved = Reserved;
        var window = StreamWindow;
        var state = Interlocked.Or(ref _state, SealedBit);
        var end = (int)(uint)state;
        var count = (int)((state >> 32) & 0x3FFF_FFFF);
        return new Taken(new ReadOnlySequence<byte>(buffer, start, end - start), count, reserved, window);
    }

    /// <summary>The writer loop has copied what the sealed batch holds; called after <see cref="Seal"/>.</summary>
    public void MarkWritten() => Volatile.Write(ref _written, 1);

    private static long Pack(int count, int end) => ((long)count << 32) | (uint)end;

    /// <summary>What a sealed batch holds: its body (the messages with their lengths), their number, and its credit.</summary>
    public readonly record struct Taken(ReadOnlySequence<byte> Body, int Count, int Reserved, CreditWindow? StreamWindow);
}
