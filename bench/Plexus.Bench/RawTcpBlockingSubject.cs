using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Plexus.Bench;

/// <summary>
/// The honest floor: the raw-tcp protocol (<see cref="RawTcpSubject"/>) with blocking socket calls on dedicated threads,
/// a thread per connection on the server and the caller's own thread on the client, so that a ping-pong measures the
/// wire and the kernel, not the thread-pool wake-ups of async completions. A call completes synchronously.
/// </summary>
internal sealed class RawTcpBlockingSubject : IBenchSubject
{
    public const string SubjectName = BenchNames.RawTcpBlocking;

    private const byte UnaryMode = (byte)'U';
    private const byte StreamMode = (byte)'S';
    private const byte BulkMode = (byte)'B';
    private const int StreamBatchBytes = 64 * 1024;
    private const int StreamFrameBytes = sizeof(int) + BenchSizes.StreamMessageBytes;

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Thread> _threads = [];
    private readonly byte[] _streamBuffer = new byte[StreamBatchBytes];
    private readonly byte[] _bulkHeader = new byte[sizeof(long)];
    private Socket? _streamConnection;
    private Socket? _bulkConnection;
    private volatile bool _stopping;

    public string Name => SubjectName;

    /// <summary>One blocking thread per connection and no stream ids: thousands of streams would be thousands of threads.</summary>
    public string? ServingUnsupported => "its protocol has no stream ids and it serves each connection on a blocking thread: concurrent streams would each need a connection and a thread of their own";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(Math.Max(BenchOptions.MaxConcurrency, 128));
        Start("raw-tcp-blocking accept", Accept);
        return Task.CompletedTask;
    }

    public ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IUnaryCaller>(new Caller(Connect(UnaryMode)));

    public ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        var socket = _streamConnection ??= Connect(StreamMode);
        SendAll(socket, [1]);
        var buffer = _streamBuffer;
        int filled = 0, offset = 0;
        long messages = 0;
        while (true)
        {
            while (messages < BenchSizes.StreamMessages && filled - offset >= StreamFrameBytes)
            {
                if (BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset)) != BenchSizes.StreamMessageBytes)
                {
                    throw new BenchFailedException($"{Name} stream: message {messages} has the wrong length.");
                }

                offset += StreamFrameBytes;
                messages++;
            }

            if (messages == BenchSizes.StreamMessages)
            {
                return ValueTask.FromResult(messages);
            }

            buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
            filled -= offset;
            offset = 0;
            var n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException($"The {Name} server closed the stream after {messages} messages.");
            }

            filled += n;
        }
    }

    public ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        var socket = _bulkConnection ??= Connect(BulkMode);
        var payload = BenchPayloads.Bulk;
        BinaryPrimitives.WriteInt64LittleEndian(_bulkHeader, payload.Length);
        SendAll(socket, _bulkHeader);
        SendAll(socket, payload.Span);
        if (!ReceiveExactly(socket, _bulkHeader))
        {
            throw new IOException($"The {Name} server closed the connection instead of acknowledging the payload.");
        }

        return ValueTask.FromResult(BinaryPrimitives.ReadInt64LittleEndian(_bulkHeader));
    }

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        _listener.Dispose();
        Thread[] threads;
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            threads = [.. _threads];
        }

        _streamConnection?.Dispose();
        _bulkConnection?.Dispose();
        foreach (var thread in threads)
        {
            // Every socket is closed, so every blocked call returns; a thread that has not noticed yet ends on its own.
            thread.Join(TimeSpan.FromSeconds(2));
        }

        return default;
    }

    private Socket Connect(byte mode)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(_listener.LocalEndPoint!);
            SendAll(socket, [mode]);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Start(string name, ThreadStart body)
    {
        var thread = new Thread(body) { IsBackground = true, Name = name };
        lock (_gate)
        {
            _threads.Add(thread);
        }

        thread.Start();
    }

    private void Accept()
    {
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            lock (_gate)
            {
                _sockets.Add(socket);
            }

            Start("raw-tcp-blocking connection", () => Serve(socket));
        }
    }

    private static void Serve(Socket socket)
    {
        try
        {
            var mode = new byte[1];
            if (!ReceiveExactly(socket, mode))
            {
                return;
            }

            switch (mode[0])
            {
                case UnaryMode:
                    ServeUnary(socket);
                    break;
                case StreamMode:
                    ServeStream(socket);
                    break;
                case BulkMode:
                    ServeBulk(socket);
                    break;
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException or IOException)
        {
            // The connection ends here; the client side of the measurement reports what went wrong.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static void ServeUnary(Socket socket)
    {
        var request = new byte[sizeof(int) + BenchSizes.UnaryRequestBytes];
        var response = new byte[sizeof(int) + BenchSizes.UnaryResponseBytes];
        BinaryPrimitives.WriteInt32LittleEndian(response, BenchSizes.UnaryResponseBytes);
        BenchPayloads.UnaryResponse.Span.CopyTo(response.AsSpan(sizeof(int)));
        while (ReceiveExactly(socket, request))
        {
            SendAll(socket, response);
        }
    }

    private static void ServeStream(Socket socket)
    {
        // The same work per message as raw-tcp's server: a length and a sequence number written into 64 KiB batches.
        var request = new byte[1];
        var batch = new byte[StreamBatchBytes];
        while (ReceiveExactly(socket, request))
        {
            var filled = 0;
            for (var i = 0; i < BenchSizes.StreamMessages; i++)
            {
                if (filled + StreamFrameBytes > batch.Length)
                {
                    SendAll(socket, batch.AsSpan(0, filled));
                    filled = 0;
                }

                var frame = batch.AsSpan(filled, StreamFrameBytes);
                BinaryPrimitives.WriteInt32LittleEndian(frame, BenchSizes.StreamMessageBytes);
                BinaryPrimitives.WriteInt64LittleEndian(frame[sizeof(int)..], i);
                frame[(sizeof(int) + sizeof(long))..].Clear();
                filled += StreamFrameBytes;
            }

            SendAll(socket, batch.AsSpan(0, filled));
        }
    }

    private static void ServeBulk(Socket socket)
    {
        var header = new byte[sizeof(long)];
        var sink = new byte[1 << 20];
        while (ReceiveExactly(socket, header))
        {
            var length = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (length is < 0 or > BenchSizes.BulkBytes)
            {
                throw new IOException($"The bulk header declares {length} bytes.");
            }

            var left = length;
            while (left > 0)
            {
                var n = socket.Receive(sink, 0, (int)Math.Min(left, sink.Length), SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException("The client closed in the middle of a bulk payload.");
                }

                left -= n;
            }

            SendAll(socket, header);
        }
    }

    private static bool ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = socket.Receive(buffer[filled..], SocketFlags.None);
            if (n == 0)
            {
                return filled == 0 ? false : throw new IOException($"The peer closed the connection after {filled} of {buffer.Length} bytes.");
            }

            filled += n;
        }

        return true;
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[socket.Send(buffer, SocketFlags.None)..];
        }
    }

    /// <summary>A unary caller that blocks its own thread for the whole exchange.</summary>
    private sealed class Caller : IUnaryCaller
    {
        private readonly Socket _socket;
        private readonly byte[] _request = new byte[sizeof(int) + BenchSizes.UnaryRequestBytes];
        private readonly byte[] _response = new byte[sizeof(int) + BenchSizes.UnaryResponseBytes];

        public Caller(Socket socket)
        {
            _socket = socket;
            BinaryPrimitives.WriteInt32LittleEndian(_request, BenchSizes.UnaryRequestBytes);
            BenchPayloads.UnaryRequest.Span.CopyTo(_request.AsSpan(sizeof(int)));
        }

        public bool Blocking => true;

        public ValueTask CallAsync(CancellationToken cancellationToken)
        {
            SendAll(_socket, _request);
            if (!ReceiveExactly(_socket, _response) || BinaryPrimitives.ReadInt32LittleEndian(_response) != BenchSizes.UnaryResponseBytes)
            {
                throw new BenchFailedException($"{SubjectName} unary: the response is not one {BenchSizes.UnaryResponseBytes}-byte message.");
            }

            return default;
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return default;
        }
    }
}
