using System.Collections.Concurrent;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>
/// The smallest <see cref="IRequestDispatcher"/>: a registry, the instance check, the handler call and the typed
/// error, written against the contracts alone. The host's own dispatcher lives in Plexus.Hosting.
/// </summary>
internal sealed class ToyDispatcher : IRequestDispatcher
{
    private readonly ConcurrentDictionary<EndpointAddress, (InstanceId Instance, IEndpointHandler Handler)> _endpoints = new();
    private int _inFlight;
    private volatile bool _draining;

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Register(EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!_endpoints.TryAdd(endpoint, (instance, handler)))
        {
            throw new InvalidOperationException($"Endpoint {endpoint} is already registered.");
        }
    }

    public bool Unregister(EndpointAddress endpoint) => _endpoints.TryRemove(endpoint, out _);

    public PlexusException? Admit(EndpointAddress endpoint, InstanceId instance)
    {
        if (_draining)
        {
            return new PlexusException(PlexusErrorCode.Unavailable, "The server is draining.") { BeforeFirstByte = true };
        }

        if (!_endpoints.TryGetValue(endpoint, out var registration))
        {
            return new PlexusException(PlexusErrorCode.Unavailable, $"Endpoint {endpoint} is not served here.") { BeforeFirstByte = true };
        }

        return registration.Instance == instance
            ? null
            : new PlexusException(PlexusErrorCode.Unavailable, $"Endpoint {endpoint} is served here as instance {registration.Instance}, not {instance}.") { BeforeFirstByte = true };
    }

    public async ValueTask DispatchAsync(IncomingRequest request, IResponseChannel responses)
    {
        if (!_endpoints.TryGetValue(request.Endpoint, out var registration) || registration.Instance != request.Instance)
        {
            await responses.CompleteAsync(Admit(request.Endpoint, request.Instance));
            return;
        }

        Interlocked.Increment(ref _inFlight);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
        if (request.Deadline is { } deadline)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            aborted.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        }

        try
        {
            var context = new RequestContext(request.Endpoint, request.RequestId, request.Payload, request.Headers, request.Deadline, aborted.Token);
            PlexusException? error = null;
            try
            {
                await registration.Handler.HandleAsync(context, responses);
            }
            catch (PlexusException e)
            {
                error = new PlexusException(e.Code, e.Message) { BeforeFirstByte = e.BeforeFirstByte && !responses.HasResponded };
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                error = new PlexusException(PlexusErrorCode.Cancelled, $"Request {request.RequestId} was cancelled.");
            }
            catch (Exception e)
            {
                // The contract: a handler's exception reaches the client as a handler error carrying its message.
                error = new PlexusException(PlexusErrorCode.HandlerError, e.Message);
            }

            await responses.CompleteAsync(error);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Refuses new requests, stops the server accepting, and waits (polling) for what is in flight.</summary>
    public async ValueTask<bool> DrainAsync(IRequestPlaneServer server, CancellationToken cancellationToken)
    {
        _draining = true;
        await server.StopAcceptingAsync(cancellationToken);
        try
        {
            while (InFlight > 0)
            {
                await Task.Delay(10, cancellationToken);
            }

            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
