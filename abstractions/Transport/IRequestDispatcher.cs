namespace Plexus;

/// <summary>
/// What the core hands a transport's server when it starts: the one place that decides whether a request is taken,
/// runs its endpoint's handler, and ends its stream. A transport only carries requests and response streams; the
/// endpoint registry, the instance check, deadlines and cancellation, turning exceptions into typed errors, in-flight
/// tracking and drain are the same for every transport and live behind this interface.
/// </summary>
public interface IRequestDispatcher
{
    /// <summary>
    /// Checks a request as soon as its head arrives, before its payload is read, so that a refused request costs no
    /// payload memory.
    /// </summary>
    /// <param name="endpoint">The endpoint the request names.</param>
    /// <param name="instance">The instance id the request names.</param>
    /// <returns><see langword="null"/> when the request may go on; otherwise the refusal to send back, marked
    /// <see cref="PlexusException.BeforeFirstByte"/> (an endpoint not served here, a stale instance id, a draining server).</returns>
    PlexusException? Admit(EndpointAddress endpoint, InstanceId instance);

    /// <summary>
    /// Runs one request to its end: checks it again, invokes the endpoint's handler with a
    /// <see cref="RequestContext"/> whose token fires when <see cref="IncomingRequest.Aborted"/> fires, the deadline
    /// passes or the server stops, and ends the stream through <see cref="IResponseChannel.CompleteAsync"/> exactly
    /// once, normally or with a typed error. Never throws. The request counts as in flight (a drain waits for it) from
    /// the moment the call returns its task, before the handler first yields.
    /// </summary>
    /// <param name="request">The request as the transport received it; its payload stays valid until the returned task completes.</param>
    /// <param name="responses">The transport's side of the request's response stream.</param>
    /// <returns>A task that completes once the stream was completed.</returns>
    ValueTask DispatchAsync(IncomingRequest request, IResponseChannel responses);

    /// <summary>
    /// The endpoints served here now, each with the instance id requests must name. For transports that make the
    /// endpoints visible beyond Plexus clients (NATS services and queue subjects); others need not look. Since 2.2;
    /// a dispatcher that does not say serves none as far as such transports are concerned.
    /// </summary>
    IReadOnlyDictionary<EndpointAddress, InstanceId> Endpoints => EmptyEndpoints.Instance;

    /// <summary>Raised after an endpoint starts or stops being served; read <see cref="Endpoints"/> again. Since 2.2.</summary>
    event EventHandler? EndpointsChanged
    {
        add
        {
        }

        remove
        {
        }
    }

    // The default of Endpoints: one empty map for every dispatcher that keeps none.
    private static class EmptyEndpoints
    {
        public static readonly IReadOnlyDictionary<EndpointAddress, InstanceId> Instance = new Dictionary<EndpointAddress, InstanceId>();
    }
}
