using System.Collections.Concurrent;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The serving side of the loopback transport.</summary>
internal sealed class LoopbackServer : IRequestPlaneServer
{
    private readonly LoopbackTransportFactory _factory;
    private readonly ConcurrentDictionary<EndpointAddress, (InstanceId Instance, IEndpointHandler Handler)> _endpoints = new();
    private readonly ConcurrentDictionary<LoopbackCall, byte> _active = new();
    private Uri? _address;
    private volatile bool _accepting;

    public LoopbackServer(LoopbackTransportFactory factory)
    {
        _factory = factory;
        Health = new TransportHealth(HealthStatus.Unhealthy, "Not started; call StartAsync.");
    }

    public Uri Address => _address ?? throw new InvalidOperationException("The server has no address until StartAsync completed.");

    public TransportHealth Health { get; private set; }

    public int InFlight => _active.Count;

    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _address = _factory.Bind(this);
        _accepting = true;
        Health = TransportHealth.Healthy;
        return ValueTask.CompletedTask;
    }

    public void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_endpoints.TryAdd(endpoint, (instance, handler)))
        {
            throw new InvalidOperationException($"Endpoint {endpoint} is already registered on this server.");
        }
    }

    public bool Unregister(EndpointAddress endpoint) => _endpoints.TryRemove(endpoint, out _);

    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        Health = new TransportHealth(HealthStatus.Degraded, "Draining; new requests are refused.");
        try
        {
            foreach (var call in _active.Keys)
            {
                await call.Completion.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort("The server stopped before the request finished.");
        }

        Close();
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

        if (!_endpoints.TryGetValue(request.Endpoint, out var registration))
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Endpoint {request.Endpoint} is not served at {_address}.") { BeforeFirstByte = true };
        }

        if (registration.Instance != request.Instance)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Endpoint {request.Endpoint} is served at {_address} as instance {registration.Instance}, not {request.Instance}.") { BeforeFirstByte = true };
        }

        var call = new LoopbackCall(request, _factory.ResponseCapacity, cancellationToken);
        _active.TryAdd(call, 0);
        call.Start(registration.Handler, () => _active.TryRemove(call, out _));
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
