namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The calling side of the loopback transport.</summary>
internal sealed class LoopbackClient : IRequestPlaneClient
{
    private readonly LoopbackTransportFactory _factory;
    private bool _disposed;

    public LoopbackClient(LoopbackTransportFactory factory)
    {
        _factory = factory;
    }

    public TransportHealth Health => _disposed ? new TransportHealth(HealthStatus.Unhealthy, "Disposed.") : TransportHealth.Healthy;

    public ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        var server = _factory.Find(address)
            ?? throw new PlexusException(PlexusErrorCode.Unavailable, $"Nothing listens at {address}.") { BeforeFirstByte = true };
        return ValueTask.FromResult(server.Accept(request, cancellationToken));
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        return ValueTask.CompletedTask;
    }
}
