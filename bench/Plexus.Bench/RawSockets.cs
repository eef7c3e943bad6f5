using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Plexus.Bench;

/// <summary>The two loops every length-prefixed socket protocol needs, over the allocation-free ValueTask socket calls.</summary>
internal static class RawSockets
{
    /// <summary>Fills <paramref name="buffer"/> completely.</summary>
    /// <returns><see langword="false"/> when the peer closed before the first byte (a clean end between messages).</returns>
    /// <exception cref="IOException">The peer closed in the middle of the buffer.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[filled..], SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return filled == 0 ? false : throw new IOException($"The peer closed the connection after {filled} of {buffer.Length} bytes.");
            }

            filled += n;
        }

        return true;
    }

    /// <summary>Sends all of <paramref name="buffer"/>, however many calls the kernel needs.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var n = await socket.SendAsync(buffer, SocketFlags.None, cancellationToken);
            buffer = buffer[n..];
        }
    }
}
