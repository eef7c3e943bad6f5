using System.Buffers;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// Reads a nats-raw message as its payload's length and nothing else. Every deserializer NATS.Client.Core ships copies
/// the payload (into a new array, or a pooled one for <c>NatsMemoryOwner&lt;byte&gt;</c>), and a 1 MiB bulk chunk
/// would be copied once more on arrival; the baseline only checks sizes, as the hand-written client it replaced did,
/// so the floor stays what NATS itself costs. (<see cref="NatsMsg{T}.Size"/> counts the subjects too.)
/// </summary>
internal sealed class NatsRawLength : INatsDeserialize<int>
{
    public static readonly NatsRawLength Instance = new();

    private NatsRawLength()
    {
    }

    public int Deserialize(in ReadOnlySequence<byte> buffer) => checked((int)buffer.Length);
}
