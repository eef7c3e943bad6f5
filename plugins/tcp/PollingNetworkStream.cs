using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The stream of a low-latency connection, made on its connection thread (<see cref="ConnectionThreads"/>). Its reads
/// on that thread wait for the socket in poll(2), so the kernel wakes that thread itself when bytes arrive, and read
/// them with a plain non-blocking recv(2). The runtime's socket engine never waits on the socket for a read: once it
/// has, it keeps the socket registered with epoll for good, and every segment that arrives then also wakes its epoll
/// thread and a thread-pool thread, which on a small machine cost more than the reader's own wake-up. Asynchronous
/// reads on that thread (the handshake's, TLS's) wait the same way and complete synchronously; elsewhere they are the
/// base class's. Writes are the base class's: they complete at once while the socket's send buffer has room; one that
/// must wait is left to the engine, which then takes the socket for good: a connection whose peer reads slower than it
/// writes loses the lighter wake-ups, not its correctness.
/// </summary>
internal sealed class PollingNetworkStream : NetworkStream
{
    // How often a wait with a cancellable token looks at it: the handshake's timeout is met within this.
    private const int CancellationCheckMicroseconds = 50_000;

    private readonly Socket _socket;

    // The last read filled its buffer, so more bytes are likely waiting: the next read tries recv(2) before it waits.
    // Otherwise it waits first, which in a ping-pong saves the recv(2) that would only say there is nothing yet.
    private bool _moreLikely;

    private PollingNetworkStream(Socket socket)
        : base(socket, ownsSocket: true)
    {
        _socket = socket;

        // Non-blocking as the user sees it: the runtime's synchronous calls become plain system calls that return
        // WouldBlock, instead of waits it emulates through its engine.
        socket.Blocking = false;
    }

    /// <summary>
    /// The stream a new connection's handshake runs on: a polling one on a connection thread in low-latency mode, a
    /// plain one otherwise.
    /// </summary>
    public static Stream For(Socket socket, TcpTransportOptions options) =>
        options.LowLatency && ConnectionThreads.IsCurrent ? new PollingNetworkStream(socket) : new NetworkStream(socket, ownsSocket: true);

    public override int Read(Span<byte> buffer) => Receive(buffer, CancellationToken.None);

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Receive(buffer.AsSpan(offset, count), CancellationToken.None);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!ConnectionThreads.IsCurrent)
        {
            return base.ReadAsync(buffer, cancellationToken);
        }

        try
        {
            // A zero-byte read waits for bytes, as the pipe reader's first read of each round expects.
            if (buffer.IsEmpty)
            {
                WaitFor(SelectMode.SelectRead, cancellationToken);
                return new ValueTask<int>(0);
            }

            return new ValueTask<int>(Receive(buffer.Span, cancellationToken));
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<int>(exception);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    // TLS writes synchronously only when a synchronous read needs it to (a TLS 1.3 key update): a few bytes.
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var sent = _socket.Send(buffer, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                WaitFor(SelectMode.SelectWrite, CancellationToken.None);
                continue;
            }

            ThrowIfFailed(error);
            buffer = buffer[sent..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    private int Receive(Span<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_moreLikely)
        {
            WaitFor(SelectMode.SelectRead, cancellationToken);
        }

        while (true)
        {
            var received = _socket.Receive(buffer, SocketFlags.None, out var error);
            if (error != SocketError.WouldBlock)
            {
                ThrowIfFailed(error);
                _moreLikely = received == buffer.Length;
                return received;
            }

            WaitFor(SelectMode.SelectRead, cancellationToken);
        }
    }

    // Ready also means closed, reset or failed: the call that follows returns 0 or fails, as a blocking one would.
    // Closing the socket from another thread ends the wait: the runtime shuts the socket down to unblock its users.
    private void WaitFor(SelectMode mode, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            _socket.Poll(-1, mode);
            return;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_socket.Poll(CancellationCheckMicroseconds, mode))
            {
                return;
            }
        }
    }

    private static void ThrowIfFailed(SocketError error)
    {
        if (error != SocketError.Success)
        {
            throw new IOException($"The connection failed: {new SocketException((int)error).Message}", new SocketException((int)error));
        }
    }
}
