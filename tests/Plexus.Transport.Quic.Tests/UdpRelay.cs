using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// A UDP relay for loss and reordering tests. It listens on a loopback port (<see cref="EndPoint"/>), forwards every
/// datagram a client sends to <see cref="Target"/>, and the target's replies back to the client that sent last.
/// In both directions it drops datagrams with <see cref="DropProbability"/> and holds one back with
/// <see cref="ReorderProbability"/>; a held datagram goes out right after the next one of its direction, or after
/// <see cref="ReorderDelay"/>, whichever comes first. <see cref="Blackhole"/> stops all forwarding (a vanished peer).
/// Decisions come from a seeded <see cref="Random"/> per direction, so a run is reproducible up to timing.
/// </summary>
public sealed class UdpRelay : IAsyncDisposable
{
    private const int MaxDatagram = 65_535;

    private readonly Socket _front;
    private readonly Socket _back;
    private readonly CancellationTokenSource _stop = new();
    private readonly Direction _toTarget;
    private readonly Direction _toClient;
    private readonly Task _frontLoop;
    private readonly Task _backLoop;
    private volatile IPEndPoint? _client;
    private long _forwarded;
    private long _dropped;
    private long _reordered;
    private long _blackholed;
    private int _disposed;

    /// <summary>Starts relaying to <paramref name="target"/> from a new port on the same loopback address family.</summary>
    /// <param name="target">Where client datagrams go.</param>
    /// <param name="seed">Seed of the drop and reorder decisions.</param>
    /// <param name="dropProbability">Initial <see cref="DropProbability"/>.</param>
    /// <param name="reorderProbability">Initial <see cref="ReorderProbability"/>.</param>
    public UdpRelay(IPEndPoint target, int seed = 1, double dropProbability = 0, double reorderProbability = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        Target = target;
        DropProbability = dropProbability;
        ReorderProbability = reorderProbability;
        var loopback = target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        _front = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _back = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _front.Bind(new IPEndPoint(loopback, 0));
            _back.Bind(new IPEndPoint(loopback, 0));
        }
        catch
        {
            _front.Dispose();
            _back.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_front.LocalEndPoint!;
        _toTarget = new Direction(this, _back, () => Target, new Random(seed));
        _toClient = new Direction(this, _front, () => _client, new Random(unchecked(seed * 31 + 17)));
        _frontLoop = Task.Run(() => ReceiveLoopAsync(_front, fromClient: true));
        _backLoop = Task.Run(() => ReceiveLoopAsync(_back, fromClient: false));
    }

    /// <summary>The address clients send to.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary><see cref="EndPoint"/> as <c>host:port</c>.</summary>
    public string Address => EndPoint.ToString();

    /// <summary>Where client datagrams are forwarded.</summary>
    public IPEndPoint Target { get; }

    /// <summary>Chance (0–1) that a datagram, in either direction, is dropped.</summary>
    public double DropProbability { get; set; }

    /// <summary>Chance (0–1) that a datagram, in either direction, is held back and sent after the next one.</summary>
    public double ReorderProbability { get; set; }

    /// <summary>How long a held-back datagram waits for a successor before it is sent anyway (default 5 ms).</summary>
    public TimeSpan ReorderDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>When true nothing is forwarded in either direction (counted in <see cref="Blackholed"/>).</summary>
    public bool Blackhole { get; set; }

    /// <summary>Datagrams sent on, in both directions (reordered ones included, once).</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Datagrams dropped by <see cref="DropProbability"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Datagrams held back by <see cref="ReorderProbability"/>.</summary>
    public long Reordered => Interlocked.Read(ref _reordered);

    /// <summary>Datagrams swallowed while <see cref="Blackhole"/> was on.</summary>
    public long Blackholed => Interlocked.Read(ref _blackholed);

    /// <inheritdoc />
    public override string ToString() =>
        $"UdpRelay {EndPoint} -> {Target}: forwarded {Forwarded}, dropped {Dropped}, reordered {Reordered}, blackholed {Blackholed}";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _front.Dispose();
        _back.Dispose();
        try
        {
            await Task.WhenAll(_frontLoop, _backLoop);
        }
        catch (OperationCanceledException)
        {
        }

        await _toTarget.DisposeAsync();
        await _toClient.DisposeAsync();
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync(Socket socket, bool fromClient)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(MaxDatagram);
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize)
            {
                continue; // ICMP port unreachable from an earlier send, or an oversized datagram: carry on.
            }
            catch (SocketException) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            if (fromClient)
            {
                _client = source;
                _toTarget.Relay(buffer.AsSpan(0, received.ReceivedBytes));
            }
            else if (source.Equals(Target))
            {
                _toClient.Relay(buffer.AsSpan(0, received.ReceivedBytes));
            }
        }
    }

    /// <summary>One direction: its socket, its destination, its random decisions and its held-back datagram.</summary>
    private sealed class Direction : IAsyncDisposable
    {
        private readonly UdpRelay _relay;
        private readonly Socket _socket;
        private readonly Func<IPEndPoint?> _destination;
        private readonly Random _random;
        private readonly Lock _gate = new();
        private readonly Timer _timer;
        private byte[]? _held;

        public Direction(UdpRelay relay, Socket socket, Func<IPEndPoint?> destination, Random random)
        {
            _relay = relay;
            _socket = socket;
            _destination = destination;
            _random = random;
            _timer = new Timer(static state => ((Direction)state!).FlushHeld(), this, Timeout.Infinite, Timeout.Infinite);
        }

        public void Relay(ReadOnlySpan<byte> datagram)
        {
            lock (_gate)
            {
                if (_relay.Blackhole)
                {
                    Interlocked.Increment(ref _relay._blackholed);
                    return;
                }

                if (_held is not null)
                {
                    // A datagram is waiting: this one overtakes it, then it follows.
                    Send(datagram);
                    var held = _held;
                    _held = null;
                    Send(held);
                    return;
                }

                var roll = _random.NextDouble();
                if (roll < _relay.DropProbability)
                {
                    Interlocked.Increment(ref _relay._dropped);
                    return;
                }

                if (_random.NextDouble() < _relay.ReorderProbability)
                {
                    Interlocked.Increment(ref _relay._reordered);
                    _held = datagram.ToArray();
                    _timer.Change(_relay.ReorderDelay, Timeout.InfiniteTimeSpan);
                    return;
                }

                Send(datagram);
            }
        }

        public async ValueTask DisposeAsync() => await _timer.DisposeAsync();

        private void FlushHeld()
        {
            lock (_gate)
            {
                if (_held is null)
                {
                    return;
                }

                var held = _held;
                _held = null;
                if (_relay.Blackhole)
                {
                    Interlocked.Increment(ref _relay._blackholed);
                    return;
                }

                Send(held);
            }
        }

        private void Send(ReadOnlySpan<byte> datagram)
        {
            if (_destination() is not { } destination)
            {
                return;
            }

            // Counted before it goes: the receiver may answer, and a test may read the count, before SendTo returns here.
            Interlocked.Increment(ref _relay._forwarded);
            try
            {
                _socket.SendTo(datagram, SocketFlags.None, destination);
            }
            catch (SocketException)
            {
                // The destination is gone or the buffer is full: like loss on a real link.
                Interlocked.Decrement(ref _relay._forwarded);
            }
            catch (ObjectDisposedException)
            {
                // The relay is being disposed.
                Interlocked.Decrement(ref _relay._forwarded);
            }
        }
    }
}
