using System.Net;
using System.Net.Sockets;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A TCP relay in the test process that stands for a bad network between clients and one node: every chunk it
/// forwards can be held back by <see cref="Delay"/>; with probability <see cref="LossRate"/> a chunk is lost together
/// with its connection, which the relay resets on both sides (TCP hides single lost packets, so the loss a transport
/// sees is a connection that dies); and while <see cref="BlackHole"/> is set it forwards nothing and closes nothing,
/// so both ends see silence, as behind a dead router. Nodes advertise the relay's address, so every client goes
/// through it.
/// </summary>
public sealed class FaultRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly List<Socket> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _delayTicks;
    private long _lossRateBits;
    private volatile bool _blackHole;
    private int _connections;
    private int _dropped;

    public FaultRelay(IPAddress listenOn, IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(listenOn, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Where it listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>How long each chunk waits before it is forwarded (per direction, in order).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    /// <summary>The probability, per chunk, that the chunk and its connection are lost.</summary>
    public double LossRate
    {
        get => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _lossRateBits));
        set => Interlocked.Exchange(ref _lossRateBits, BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>While set, nothing is forwarded and nothing closed: chunks are read and thrown away.</summary>
    public bool BlackHole
    {
        get => _blackHole;
        set => _blackHole = value;
    }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections lost to <see cref="LossRate"/> so far.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            connect.CancelAfter(TimeSpan.FromSeconds(5));
            await server.ConnectAsync(_target, connect.Token);
            using var lost = new CancellationTokenSource();
            await Task.WhenAll(PumpAsync(client, server, lost), PumpAsync(server, client, lost));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Reset(client);
            Reset(server);
            lock (_sockets)
            {
                _sockets.Remove(client);
                _sockets.Remove(server);
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, CancellationTokenSource lost)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, lost.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (_blackHole)
                {
                    continue;
                }

                if (LossRate > 0 && Random.Shared.NextDouble() < LossRate)
                {
                    Interlocked.Increment(ref _dropped);
                    await lost.CancelAsync();
                    return;
                }

                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, lost.Token);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, lost.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Either side went away, or the connection was lost on purpose: the other pump ends too.
            await lost.CancelAsync();
        }
    }

    /// <summary>Closes with a reset (linger 0), as a connection lost in the network ends for the side that next sends.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
