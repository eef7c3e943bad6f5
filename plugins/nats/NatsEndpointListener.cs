using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>One registered endpoint: its handler, and the subscriptions that bring its requests.</summary>
internal sealed class NatsEndpointListener : INatsMessageHandler
{
    private readonly NatsServer _server;

    /// <summary>Creates the listener of a registration.</summary>
    /// <param name="server">The server.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="queued">Whether this listener is for the queue-group subject.</param>
    public NatsEndpointListener(NatsServer server, EndpointAddress endpoint, InstanceId instance, IEndpointHandler handler, bool queued)
    {
        _server = server;
        Endpoint = endpoint;
        Instance = instance;
        Handler = handler;
        Queued = queued;
    }

    /// <summary>The endpoint.</summary>
    public EndpointAddress Endpoint { get; }

    /// <summary>The instance id.</summary>
    public InstanceId Instance { get; }

    /// <summary>The handler.</summary>
    public IEndpointHandler Handler { get; }

    /// <summary>Whether requests arrive through the queue group (any instance may take them).</summary>
    public bool Queued { get; }

    /// <summary>The subscriptions, once subscribed.</summary>
    public NatsSubscription? Subscription { get; set; }

    /// <summary>The queue-group listener that belongs to this registration, if any.</summary>
    public NatsEndpointListener? QueueListener { get; set; }

    /// <inheritdoc />
    public void OnMessage(in NatsMessage message) => _server.OnRequest(this, message);
}
