using System.Buffers;

namespace Plexus.Transport.Nats;

/// <summary>The transport headers of one frame, read without allocating.</summary>
/// <param name="Kind">The frame kind.</param>
/// <param name="Status">The NATS status code (503 for no responders), or 0.</param>
/// <param name="Seq">The sequence number, or -1.</param>
/// <param name="Length"><c>Plexus-Length</c>, or -1.</param>
/// <param name="Credit">The cumulative credit, or -1.</param>
/// <param name="ErrorCode">The error code, or 0.</param>
/// <param name="Refused">Whether the request was refused before any work.</param>
/// <param name="Count"><c>Plexus-Count</c> (the messages of a <c>msgs</c> frame), or -1.</param>
/// <param name="Batch">Whether the server says (<c>Plexus-Batch: 1</c>) that it reads <c>heads</c> frames.</param>
internal readonly record struct FrameHeader(FrameKind Kind, int Status, long Seq, long Length, long Credit, int ErrorCode, bool Refused, long Count, bool Batch = false)
{
    /// <summary>Reads the transport headers of a message.</summary>
    /// <param name="headers">The message's header block.</param>
    /// <returns>The headers.</returns>
    /// <exception cref="FormatException">The block is malformed.</exception>
    public static FrameHeader Read(in ReadOnlySequence<byte> headers)
    {
        if (headers.IsEmpty)
        {
            return new FrameHeader(FrameKind.None, 0, -1, -1, -1, 0, false, -1);
        }

        Span<byte> scratch = stackalloc byte[512];
        var block = NatsWire.Contiguous(headers, scratch, out var rented);
        try
        {
            var reader = new NatsHeaderReader(block);
            var kind = FrameKind.None;
            long seq = -1, length = -1, credit = -1, code = 0, count = -1;
            bool refused = false, batch = false;
            while (reader.MoveNext())
            {
                var name = reader.Name;
                var value = reader.Value;
                if (NatsWire.Is(name, NatsWire.Frame))
                {
                    kind = KindOf(value);
                }
                else if (NatsWire.Is(name, NatsWire.Seq))
                {
                    seq = Number(value, "Plexus-Seq");
                }
                else if (NatsWire.Is(name, NatsWire.Length))
                {
                    length = Number(value, "Plexus-Length");
                }
                else if (NatsWire.Is(name, NatsWire.Credit))
                {
                    credit = Number(value, "Plexus-Credit");
                }
                else if (NatsWire.Is(name, NatsWire.ErrorCode))
                {
                    code = Number(value, "Plexus-Error-Code");
                }
                else if (NatsWire.Is(name, NatsWire.Count))
                {
                    count = Number(value, "Plexus-Count");
                }
                else if (NatsWire.Is(name, NatsWire.Refused))
                {
                    refused = value.SequenceEqual("1"u8);
                }
                else if (NatsWire.Is(name, NatsWire.Batch))
                {
                    batch = NatsWire.TryNumber(value, out var version) && version >= 1;
                }
            }

            return new FrameHeader(kind, reader.Status, seq, length, credit, (int)Math.Clamp(code, 0, int.MaxValue), refused, count, batch);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static FrameKind KindOf(ReadOnlySpan<byte> value) => value switch
    {
        _ when value.SequenceEqual(NatsWire.Kind.Data) => FrameKind.Data,
        _ when value.SequenceEqual(NatsWire.Kind.Msgs) => FrameKind.Msgs,
        _ when value.SequenceEqual(NatsWire.Kind.MsgsLast) => FrameKind.MsgsLast,
        _ when value.SequenceEqual(NatsWire.Kind.Lasts) => FrameKind.Lasts,
        _ when value.SequenceEqual(NatsWire.Kind.Heads) => FrameKind.Heads,
        _ when value.SequenceEqual(NatsWire.Kind.Part) => FrameKind.Part,
        _ when value.SequenceEqual(NatsWire.Kind.End) => FrameKind.End,
        _ when value.SequenceEqual(NatsWire.Kind.Last) => FrameKind.Last,
        _ when value.SequenceEqual(NatsWire.Kind.Error) => FrameKind.Error,
        _ when value.SequenceEqual(NatsWire.Kind.Pong) => FrameKind.Pong,
        _ when value.SequenceEqual(NatsWire.Kind.CreditKind) => FrameKind.Credit,
        _ when value.SequenceEqual(NatsWire.Kind.Cancel) => FrameKind.Cancel,
        _ when value.SequenceEqual(NatsWire.Kind.Ping) => FrameKind.Ping,
        _ => FrameKind.Unknown,
    };

    private static long Number(ReadOnlySpan<byte> value, string name) =>
        NatsWire.TryNumber(value, out var number) && number >= 0
            ? number
            : throw new FormatException($"The header {name} is not a non-negative whole number.");
}
