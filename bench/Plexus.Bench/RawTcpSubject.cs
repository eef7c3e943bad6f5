using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Bench;

/// <summary>
/// The floor: plain sockets on 127.0.0.1 speaking the least protocol that carries the scenarios (a 4-byte length
/// before each message, an 8-byte length before a bulk payload). A connection's first byte says which scenario it
/// serves. Everything is written tight: buffers allocated per connection, not per message, and stream messages
/// batched into 64 KiB sends, so that no transport can be expected to beat it.
/// </summary>
internal sealed class RawTcpSubject : IBenchSubject
{
    public const string SubjectName = BenchNames.RawTcp;

    private const byte UnaryMode = (byte)'U';
    private const byte StreamMode = (byte)'S';
    private const byte BulkMode = (byte)'B';
    private const int StreamBatchBytes = 64 * 1024;
    private const int StreamFrameBytes = sizeof(int) + BenchSizes.StreamMessageBytes;

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _serving = [];
    private readonly byte[] _streamBuffer = new byte[StreamBatchBytes];
    private readonly byte[] _bulkHeader = new byte[sizeof(long)];
    private Task? _accepting;
    private Socket? _streamConnection;
    private Socket? _bulkConnection;

    public string Name => SubjectName;

    /// <summary>
    /// Its protocol carries one request at a time per connection and has no stream ids: 10,000 streams would be
    /// 10,000 connections, a different scenario from many streams on one client's few connections.
    /// </summary>
    public string? ServingUnsupported => "its protocol has no stream ids, one request at a time per connection: concurrent streams would each need a connection of their own";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(Math.Max(BenchOptions.MaxConcurrency, 128));
        _accepting = AcceptLoopAsync();
        return Task.CompletedTask;
    }

    public async ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken) =>
        new RawTcpUnaryCaller(await ConnectAsync(UnaryMode, cancellationToken));

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        var socket = _streamConnection ??= await ConnectAsync(StreamMode, cancellationToken);
        await RawSockets.SendAllAsync(socket, new byte[] { 1 }, cancellationToken);

        // Read in big chunks, then walk the chunk message by message as a receiver would.
        var buffer = _streamBuffer;
        int filled = 0, offset = 0;
        long messages = 0;
        while (true)
        {
            while (messages < BenchSizes.StreamMessages && filled - offset >= sizeof(int))
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
                if (length != BenchSizes.StreamMessageBytes)
                {
                    throw new BenchFailedException($"{Name} stream: message {messages} declares {length} bytes, not {BenchSizes.StreamMessageBytes}.");
                }

                if (filled - offset < sizeof(int) + length)
                {
                    break;
                }

                offset += sizeof(int) + length;
                messages++;
            }

            if (messages == BenchSizes.StreamMessages)
            {
                if (offset != filled)
                {
                    throw new BenchFailedException($"{Name} stream: {filled - offset} bytes arrived after the last message.");
                }

                return messages;
            }

            buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
            filled -= offset;
            offset = 0;
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new IOException($"The raw-tcp server closed the stream after {messages} messages.");
            }

            filled += n;
        }
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        var socket = _bulkConnection ??= await ConnectAsync(BulkMode, cancellationToken);
        var payload = BenchPayloads.Bulk;
        BinaryPrimitives.WriteInt64LittleEndian(_bulkHeader, payload.Length);
        await RawSockets.SendAllAsync(socket, _bulkHeader, cancellationToken);
        await RawSockets.SendAllAsync(socket, payload, cancellationToken);
        if (!await RawSockets.ReceiveExactlyAsync(socket, _bulkHeader, cancellationToken))
        {
            throw new IOException("The raw-tcp server closed the connection instead of acknowledging the payload.");
        }

        return BinaryPrimitives.ReadInt64LittleEndian(_bulkHeader);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        Task[] serving;
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            serving = [.. _serving];
        }

        _streamConnection?.Dispose();
        _bulkConnection?.Dispose();
        try
        {
            await Task.WhenAll([.. serving, _accepting ?? Task.CompletedTask]).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // Every socket is closed; a loop that has not noticed yet ends on its own.
        }

        _stopping.Dispose();
    }

    private async Task<Socket> ConnectAsync(byte mode, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_listener.LocalEndPoint!, cancellationToken);
            await RawSockets.SendAllAsync(socket, new[] { mode }, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        var stopping = _stopping.Token;
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(stopping);
                socket.NoDelay = true;
                lock (_gate)
                {
                    _sockets.Add(socket);
                    _serving.Add(Task.Run(() => ServeAsync(socket, stopping), CancellationToken.None));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The listener was closed: the subject is being disposed.
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stopping)
    {
        try
        {
            var mode = new byte[1];
            if (!await RawSockets.ReceiveExactlyAsync(socket, mode, stopping))
            {
                return;
            }

            switch (mode[0])
            {
                case UnaryMode:
                    await ServeUnaryAsync(socket, stopping);
                    break;
                case StreamMode:
                    await ServeStreamAsync(socket, stopping);
                    break;
                case BulkMode:
                    await ServeBulkAsync(socket, stopping);
                    break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException or InvalidDataException)
        {
            // The connection ends here; the client side of the measurement reports what went wrong.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static async Task ServeUnaryAsync(Socket socket, CancellationToken stopping)
    {
        var request = new byte[sizeof(int) + BenchSizes.UnaryRequestBytes];
        var response = new byte[sizeof(int) + BenchSizes.UnaryResponseBytes];
        BinaryPrimitives.WriteInt32LittleEndian(response, BenchSizes.UnaryResponseBytes);
        BenchPayloads.UnaryResponse.Span.CopyTo(response.AsSpan(sizeof(int)));
        while (await RawSockets.ReceiveExactlyAsync(socket, request, stopping))
        {
            if (BinaryPrimitives.ReadInt32LittleEndian(request) != BenchSizes.UnaryRequestBytes)
            {
                throw new InvalidDataException("The unary request has the wrong length.");
            }

            await RawSockets.SendAllAsync(socket, response, stopping);
        }
    }

    private static async Task ServeStreamAsync(Socket socket, CancellationToken stopping)
    {
        var request = new byte[1];
        var batch = new byte[StreamBatchBytes];
        while (await RawSockets.ReceiveExactlyAsync(socket, request, stopping))
        {
            var filled = 0;
            for (var i = 0; i < BenchSizes.StreamMessages; i++)
            {
                if (filled + StreamFrameBytes > batch.Length)
                {
                    await RawSockets.SendAllAsync(socket, batch.AsMemory(0, filled), stopping);
                    filled = 0;
                }

                var frame = batch.AsSpan(filled, StreamFrameBytes);
                BinaryPrimitives.WriteInt32LittleEndian(frame, BenchSizes.StreamMessageBytes);
                BinaryPrimitives.WriteInt64LittleEndian(frame[sizeof(int)..], i);
                frame[(sizeof(int) + sizeof(long))..].Clear();
                filled += StreamFrameBytes;
            }

            await RawSockets.SendAllAsync(socket, batch.AsMemory(0, filled), stopping);
        }
    }

    private static async Task ServeBulkAsync(Socket socket, CancellationToken stopping)
    {
        var header = new byte[sizeof(long)];
        var sink = new byte[1024 * 1024];
        while (await RawSockets.ReceiveExactlyAsync(socket, header, stopping))
        {
            var length = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (length is < 0 or > BenchSizes.BulkBytes)
            {
                throw new InvalidDataException($"The bulk header declares {length} bytes.");
            }

            long received = 0;
            while (received < length)
            {
                var n = await socket.ReceiveAsync(sink.AsMemory(0, (int)Math.Min(sink.Length, length - received)), SocketFlags.None, stopping);
                if (n == 0)
                {
                    throw new IOException("The client closed in the middle of a bulk payload.");
                }

                received += n;
            }

            BinaryPrimitives.WriteInt64LittleEndian(header, received);
            await RawSockets.SendAllAsync(socket, header, stopping);
        }
    }
}
