using System.Globalization;

namespace Plexus.Transport.Memory;

/// <summary>
/// A memory transport client. There is no connection to open: the address names a server in <see cref="MemoryHub"/>,
/// and sending is a call to that server. Everything a network client checks before sending is checked here too, in the
/// same order: limits, deadline, reachability.
/// </summary>
internal sealed class MemoryClient : IRequestPlaneClient
{
    private readonly MemoryTransportOptions _options;
    private readonly ClientBudget _budget;
    private volatile bool _disposed;

    /// <summary>Creates a client.</summary>
    /// <param name="options">Limits.</param>
    public MemoryClient(MemoryTransportOptions options)
    {
        _options = options;
        _budget = new ClientBudget(options.MaxBufferedBytesPerClient);
    }

    /// <summary>Bytes of response messages this client's requests hold now, for tests.</summary>
    internal long BufferedBytes => _budget.Used;

    /// <inheritdoc />
    public TransportHealth Health => _disposed
        ? new TransportHealth(HealthStatus.Unhealthy, "The memory client was disposed.")
        : TransportHealth.Healthy;

    /// <inheritdoc />
    public ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!string.Equals(address.Scheme, MemoryTransportFactory.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{address}' is not a memory transport address; it must start with '{MemoryTransportFactory.Scheme}://'.", nameof(address));
        }

        // Request failures are reported through the task, as they would be after a network round trip.
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IResponseStream>(cancellationToken);
        }

        try
        {
            return new ValueTask<IResponseStream>(Send(address, request, cancellationToken));
        }
        catch (PlexusException exception)
        {
            return ValueTask.FromException<IResponseStream>(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // Streams already returned stay readable: each belongs to its caller, who disposes it.
        _disposed = true;
        return default;
    }

    private MemoryResponseStream Send(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        // The limit is checked before anything is copied.
        var length = request.Payload.Length;
        if (length > _options.MaxPayloadBytes)
        {
            throw PlexusException.TooLarge("request payload", length, _options.MaxPayloadBytes, MemoryTransportOptions.MaxPayloadBytesKey);
        }

        // A request that is already late would only make the server do work nobody waits for.
        if (request.Deadline is { } deadline && deadline <= DateTimeOffset.UtcNow)
        {
            throw new PlexusException(
                PlexusErrorCode.Timeout,
                $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before it was sent.");
        }

        if (!MemoryHub.TryFind(address, out var server))
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"No memory server is running at {address}.") { BeforeFirstByte = true };
        }

        var exchange = server.Accept(request, _budget);
        return new MemoryResponseStream(exchange, cancellationToken);
    }
}
