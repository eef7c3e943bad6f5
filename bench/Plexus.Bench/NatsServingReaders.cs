using System.Buffers;
using System.Buffers.Binary;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>A token as nats-raw's client reads it: the stream and sequence number it carries, and its length.</summary>
internal readonly record struct NatsServingToken(int Stream, int Sequence, int Length);

/// <summary>Reads a nats-raw token's header in place (<see cref="ServingToken"/>): nothing is copied out of the read buffer.</summary>
internal sealed class NatsServingTokenReader : INatsDeserialize<NatsServingToken>
{
    public static readonly NatsServingTokenReader Instance = new();

    private NatsServingTokenReader()
    {
    }

    public NatsServingToken Deserialize(in ReadOnlySequence<byte> buffer)
    {
        var length = checked((int)buffer.Length);
        if (length < ServingToken.HeaderBytes)
        {
            return new NatsServingToken(-1, -1, length);
        }

        Span<byte> header = stackalloc byte[ServingToken.HeaderBytes];
        buffer.Slice(0, ServingToken.HeaderBytes).CopyTo(header);
        return new NatsServingToken(BinaryPrimitives.ReadInt32LittleEndian(header), BinaryPrimitives.ReadInt32LittleEndian(header[sizeof(int)..]), length);
    }
}

/// <summary>Reads a nats-raw serving request; null when the payload is not one.</summary>
internal sealed class NatsServingRequestReader : INatsDeserialize<ServingRequest?>
{
    public static readonly NatsServingRequestReader Instance = new();

    private NatsServingRequestReader()
    {
    }

    public ServingRequest? Deserialize(in ReadOnlySequence<byte> buffer)
    {
        try
        {
            return ServingRequest.Read(buffer);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
