using System.Buffers;
using System.IO.Pipelines;

namespace Plexus.Transport.Quic;

/// <summary>
/// Reads the control messages that follow SETTINGS on a peer's control stream (docs/protocol/quic.md): each is
/// <c>u8 type, u32 length, body</c>. Known bodies are bounded; an unknown type is skipped as its bytes arrive, so a
/// large one costs no memory.
/// </summary>
internal static class QuicControlStream
{
    // The largest body this side holds in memory: a GOAWAY reason is at most 4 KiB.
    private const int MaxHeldBody = 64 * 1024;

    /// <summary>
    /// Reads messages until the stream ends, calling <paramref name="onMessage"/> with the type and body of each one
    /// whose body is at most 64 KiB; larger ones and those after are skipped.
    /// </summary>
    /// <exception cref="IOException">The stream or its connection failed.</exception>
    public static async Task ReadAsync(PipeReader input, Action<byte, ReadOnlySequence<byte>>? onMessage)
    {
        long skip = 0;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            while (true)
            {
                if (skip > 0)
                {
                    var n = Math.Min(skip, buffer.Length);
                    buffer = buffer.Slice(n);
                    skip -= n;
                    if (skip > 0)
                    {
                        break;
                    }
                }

                var reader = new SequenceReader<byte>(buffer);
                if (!reader.TryRead(out var type) || !reader.TryReadLittleEndian(out int rawLength))
                {
                    break;
                }

                var length = (uint)rawLength;
                if (length > MaxHeldBody || onMessage is null)
                {
                    buffer = buffer.Slice(QuicWire.ControlPrefixLength);
                    skip = length;
                    continue;
                }

                if (reader.Remaining < length)
                {
                    break;
                }

                onMessage(type, buffer.Slice(QuicWire.ControlPrefixLength, length));
                buffer = buffer.Slice(QuicWire.ControlPrefixLength + length);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                await input.CompleteAsync().ConfigureAwait(false);
                return;
            }
        }
    }
}
