using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// A stand-in for nats-server that stops reading: on the first connection it answers pings and notes subscriptions
/// until told to flood, then sends requests without a Plexus head to one subscription as fast as the socket takes them
/// and never reads again. Later connections (the node reconnecting) are served normally: pings answered, everything
/// read. Real sockets; the node under test cannot tell it from a broker that went bad.
/// </summary>
internal sealed class StalledNatsServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<(string Subscribed, string Subject)> _flood = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, string> _sids = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private long _flooded;
    private int _accepted;

    public StalledNatsServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Url => new($"nats://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>Bytes of requests the node's socket took from the flood.</summary>
    public long FloodedBytes => Interlocked.Read(ref _flooded);

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Stops reading the first connection and floods the subscription to <paramref name="subscribed"/> with messages to <paramref name="subject"/>.</summary>
    public void Flood(string subscribed, string subject) => _flood.TrySetResult((subscribed, subject));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] connections;
        lock (_gate)
        {
            connections = [.. _connections, _accepting];
        }

        try
        {
            await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            // A small receive buffer, so that the kernel cannot hide a peer that stopped reading.
            socket.ReceiveBufferSize = 64 * 1024;
            var first = Interlocked.Increment(ref _accepted) == 1;
            lock (_gate)
            {
                _connections.Add(Task.Run(() => ServeAsync(socket, first)));
            }
        }
    }

    private async Task ServeAsync(Socket socket, bool stallAndFlood)
    {
        using var owned = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("INFO {\"server_id\":\"STALLED\",\"version\":\"2.9.0\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n"), _stop.Token);
            var lines = ReadLinesAsync(stream, reading.Token);
            if (!stallAndFlood)
            {
                await lines;
                return;
            }

            var (subscribed, subject) = await _flood.Task.WaitAsync(_stop.Token);
            string sid;
            lock (_gate)
            {
                sid = _sids[subscribed];
            }

            // From here nothing is read on this connection.
            await reading.CancelAsync();
            await lines.ContinueWith(static _ => { }, TaskScheduler.Default);
            var batch = new StringBuilder();
            for (var i = 0; i < 1000; i++)
            {
                batch.Append(FormattableString.Invariant($"MSG {subject} {sid} _INBOX.flood.{i} 0\r\n\r\n"));
            }

            var bytes = Encoding.ASCII.GetBytes(batch.ToString());
            while (!_stop.IsCancellationRequested)
            {
                await stream.WriteAsync(bytes, _stop.Token);
                Interlocked.Add(ref _flooded, bytes.Length);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The node closed the connection, or the test is over.
        }
    }

    private async Task ReadLinesAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line == "PING")
                {
                    await stream.WriteAsync("PONG\r\n"u8.ToArray(), cancellationToken);
                }
                else if (line.StartsWith("SUB ", StringComparison.Ordinal))
                {
                    // SUB <subject> [queue] <sid>
                    var parts = line.Split(' ');
                    lock (_gate)
                    {
                        _sids[parts[1]] = parts[^1];
                    }
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }
}
