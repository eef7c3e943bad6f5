using System.Buffers;
using System.Buffers.Binary;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// Reads the nats-raw bulk acknowledgement: the byte count the responder received, 8 bytes little-endian. A payload of
/// any other length reads as -1, which no transfer can count; it runs on the connection's read loop, where throwing
/// would only lose the reason.
/// </summary>
internal sealed class NatsRawAck : INatsDeserialize<long>
{
    public static readonly NatsRawAck Instance = new();

    private NatsRawAck()
    {
    }

    public long Deserialize(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length != BenchSizes.BulkAckBytes)
        {
            return -1;
        }

        Span<byte> ack = stackalloc byte[BenchSizes.BulkAckBytes];
        buffer.CopyTo(ack);
        return BinaryPrimitives.ReadInt64LittleEndian(ack);
    }
}
