using System.Collections.Concurrent;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The serving side of the loopback transport.</summary>
internal sealed class LoopbackServer : IRequestPlaneServer
{
    private readonly LoopbackTransportFactory _factory;
    private readonly ConcurrentDictionary<LoopbackCall, byte> _active = new();
    private Uri? _address;
    private IRequestDispatcher? _dispatcher;
    private volatile bool _accepting;

    public LoopbackServer(LoopbackTransportFactory factory)
    {
        _factory = factory;
        Health = new TransportHealth(HealthStatus.Unhealthy, "Not started; call StartAsync.");
    }

    public Uri Address => _address ?? throw new InvalidOperationException("The server has no address until StartAsync completed.");

    public TransportHealth Health { get; private set; }

    public int InFlight => _active.Count;

    public ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _dispatcher = dispatcher;
        _address = _factory.Bind(this);
        _accepting = true;
        Health = TransportHealth.Healthy;
        return ValueTask.CompletedTask;
    }

    public ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        // Accept hands each request to the dispatcher before it returns, so nothing admitted is left behind.
        _accepting = false;
        Health = new TransportHealth(HealthStatus.Degraded, "Draining; new requests are refused.");
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _accepting = false;
        Abort("The server was disposed.");
        Close();
        return ValueTask.CompletedTask;
    }

    internal IResponseStream Accept(OutgoingRequest request, CancellationToken cancellationToken)
    {
        if (!_accepting)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The server at {_address} is not accepting requests.") { BeforeFirstByte = true };
        }

        var dispatcher = _dispatcher!;
        if (dispatcher.Admit(request.Endpoint, request.Instance) is { } refusal)
        {
            throw refusal;
        }

        var call = new LoopbackCall(request, _factory.ResponseCapacity, cancellationToken);
        _active.TryAdd(call, 0);
        call.Start(dispatcher, () => _active.TryRemove(call, out _));
        return call.Responses;
    }

    private void Abort(string reason)
    {
        foreach (var call in _active.Keys)
        {
            call.Abort(reason);
        }
    }

    private void Close()
    {
        if (_address is not null)
        {
            _factory.Unbind(_address);
        }

        Health = new TransportHealth(HealthStatus.Unhealthy, "Closed.");
    }
}
