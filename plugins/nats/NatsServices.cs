using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The endpoints a server serves, as NATS services (the NATS services API, "micro"): one service per component, each
/// endpoint on its queue subject <c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c> in queue
/// group <see cref="NatsTransportOptions.QueueGroup"/>, where plain NATS callers reach one of the processes serving it;
/// and the answers to <c>$SRV.PING</c>, <c>$SRV.INFO</c> and <c>$SRV.STATS</c> (each also with the service's name,
/// and its name and id) that <c>nats micro ls</c>, <c>nats micro stats</c> and other NATS tooling send. Follows the
/// dispatcher's endpoints as they are served and dropped.
/// </summary>
internal sealed class NatsServices : IAsyncDisposable
{
    private static readonly string[] Verbs = ["PING", "INFO", "STATS"];

    private readonly NatsServer _server;
    private readonly NatsLink _link;
    private readonly NatsTransportOptions _options;
    private readonly string _id;
    private readonly ILogger _logger;
    private readonly string _version;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<EndpointAddress, Entry> _endpoints = [];
    private readonly Dictionary<string, Service> _services = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<EndpointAddress, NatsEndpointStats> _stats = new();
    private readonly List<NatsSubscription> _verbs = [];
    private IRequestDispatcher? _dispatcher;
    private bool _accepting = true;
    private bool _disposed;

    /// <summary>Creates the services of one server; nothing is subscribed until <see cref="StartAsync"/>.</summary>
    /// <param name="server">The server requests go to.</param>
    /// <param name="link">Its connection.</param>
    /// <param name="options">The transport's options.</param>
    /// <param name="id">The server id, each service's id.</param>
    /// <param name="logger">Where failures to follow the endpoints are logged.</param>
    public NatsServices(NatsServer server, NatsLink link, NatsTransportOptions options, string id, ILogger logger)
    {
        _server = server;
        _link = link;
        _options = options;
        _id = id;
        _logger = logger;
        _version = NatsServiceNames.Version(options.ServiceVersion);
    }

    /// <summary>Subscribes the <c>$SRV</c> subjects and the endpoints served now, and follows the dispatcher from then on.</summary>
    /// <param name="dispatcher">The dispatcher whose endpoints are published.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>A task that completes once everything is subscribed.</returns>
    public async ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        var first = false;
        lock (_gate)
        {
            if (_dispatcher is null)
            {
                _dispatcher = dispatcher;
                first = true;
            }
        }

        if (first)
        {
            foreach (var verb in Verbs)
            {
                var subscription = await _link.SubscribeAsync($"$SRV.{verb}", null, new VerbReceiver(this, verb, null), cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _verbs.Add(subscription);
                }
            }

            dispatcher.EndpointsChanged += OnEndpointsChanged;
        }

        await SyncAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counts one request of an endpoint.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="elapsed">From its head to its end.</param>
    /// <param name="failure">The error it ended with, or <see langword="null"/>.</param>
    public void Record(EndpointAddress endpoint, TimeSpan elapsed, PlexusException? failure) =>
        _stats.GetOrAdd(endpoint, static _ => new NatsEndpointStats()).Record(elapsed, failure);

    /// <summary>The first step of a drain: plain callers stop reaching this process; the services stay visible.</summary>
    /// <returns>A task that completes once the queue subscriptions are gone.</returns>
    public async ValueTask StopAcceptingAsync()
    {
        await _sync.WaitAsync().ConfigureAwait(false);
        try
        {
            _accepting = false;
            foreach (var entry in _endpoints.Values)
            {
                if (entry.Queue is { } queue)
                {
                    // Drained, so that requests nats-server sent before the UNSUB are still served.
                    entry.Queue = null;
                    await queue.DrainAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        IRequestDispatcher? dispatcher;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            dispatcher = _dispatcher;
        }

        if (dispatcher is not null)
        {
            dispatcher.EndpointsChanged -= OnEndpointsChanged;
        }

        await _sync.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var entry in _endpoints.Values)
            {
                if (entry.Queue is { } queue)
                {
                    await queue.DisposeAsync().ConfigureAwait(false);
                }
            }

            foreach (var service in _services.Values)
            {
                foreach (var subscription in service.Subscriptions)
                {
                    await subscription.DisposeAsync().ConfigureAwait(false);
                }
            }

            List<NatsSubscription> verbs;
            lock (_gate)
            {
                verbs = [.. _verbs];
                _verbs.Clear();
                _endpoints.Clear();
                _services.Clear();
            }

            foreach (var subscription in verbs)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _sync.Release();
        }
    }

    private void OnEndpointsChanged(object? sender, EventArgs args) => _ = FollowAsync();

    private async Task FollowAsync()
    {
        try
        {
            await SyncAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // Not connected: the next change or the reconnect (the client restores what is subscribed) catches up.
            NatsLog.ServicesNotFollowed(_logger, exception.Message);
        }
    }

    // Subscribes what the dispatcher serves and this does not yet, and drops what it no longer serves. One at a time.
    private async ValueTask SyncAsync(CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_disposed || _dispatcher is not { } dispatcher)
            {
                return;
            }

            var served = dispatcher.Endpoints;
            foreach (var (endpoint, entry) in _endpoints.ToArray())
            {
                if (!served.TryGetValue(endpoint, out var instance) || instance != entry.Instance)
                {
                    await RemoveAsync(endpoint, entry).ConfigureAwait(false);
                }
            }

            foreach (var (endpoint, instance) in served)
            {
                if (!_endpoints.ContainsKey(endpoint))
                {
                    await AddAsync(endpoint, instance, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _sync.Release();
        }
    }

    private async ValueTask AddAsync(EndpointAddress endpoint, InstanceId instance, CancellationToken cancellationToken)
    {
        var name = NatsServiceNames.Service(endpoint);
        var entry = new Entry(endpoint, instance, NatsAddress.EndpointSubject(_options.SubjectPrefix, endpoint));
        _stats.GetOrAdd(endpoint, static _ => new NatsEndpointStats());
        if (_accepting)
        {
            entry.Queue = await _link.SubscribeAsync(entry.Subject, _options.QueueGroup, new QueueReceiver(_server, endpoint, instance), cancellationToken).ConfigureAwait(false);
        }

        Service? service;
        lock (_gate)
        {
            _endpoints[endpoint] = entry;
            _services.TryGetValue(name, out service);
            if (service is null)
            {
                service = new Service(name, endpoint.Namespace, endpoint.Component);
                _services[name] = service;
            }

            service.Endpoints.Add(endpoint);
        }

        if (service.Subscriptions.Count == 0)
        {
            foreach (var verb in Verbs)
            {
                service.Subscriptions.Add(await _link.SubscribeAsync($"$SRV.{verb}.{name}", null, new VerbReceiver(this, verb, name), cancellationToken).ConfigureAwait(false));
                service.Subscriptions.Add(await _link.SubscribeAsync($"$SRV.{verb}.{name}.{_id}", null, new VerbReceiver(this, verb, name), cancellationToken).ConfigureAwait(false));
            }
        }
    }

    private async ValueTask RemoveAsync(EndpointAddress endpoint, Entry entry)
    {
        var name = NatsServiceNames.Service(endpoint);
        Service? emptied = null;
        lock (_gate)
        {
            _endpoints.Remove(endpoint);
            if (_services.TryGetValue(name, out var service) && service.Endpoints.Remove(endpoint) && service.Endpoints.Count == 0)
            {
                _services.Remove(name);
                emptied = service;
            }
        }

        if (entry.Queue is { } queue)
        {
            // Requests already on their way are answered (refused: the endpoint is no longer served), not dropped.
            await queue.DrainAsync().ConfigureAwait(false);
        }

        if (emptied is not null)
        {
            foreach (var subscription in emptied.Subscriptions)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Answers one $SRV request: every service here, or the one it names (and, with an id, only when it is this one).
    private ValueTask AnswerAsync(string verb, string? only, string? replyTo)
    {
        if (string.IsNullOrEmpty(replyTo))
        {
            return default;
        }

        List<(Service Service, Entry[] Endpoints)> services = [];
        lock (_gate)
        {
            foreach (var service in _services.Values)
            {
                if (only is not null && service.Name != only)
                {
                    continue;
                }

                var endpoints = new Entry[service.Endpoints.Count];
                var i = 0;
                foreach (var endpoint in service.Endpoints)
                {
                    endpoints[i++] = _endpoints[endpoint];
                }

                services.Add((service, endpoints));
            }
        }

        if (services.Count == 0)
        {
            return default;
        }

        return AnswerAllAsync(verb, replyTo, services);
    }

    private async ValueTask AnswerAllAsync(string verb, string replyTo, List<(Service Service, Entry[] Endpoints)> services)
    {
        foreach (var (service, endpoints) in services)
        {
            var json = Describe(verb, service, endpoints);
            try
            {
                await _link.PublishAsync(replyTo, null, null, new ReadOnlySequence<byte>(json)).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or ObjectDisposedException)
            {
                // The asker gives up on its own timeout.
                return;
            }
        }
    }

    // The JSON of the NATS services API (io.nats.micro.v1): the same fields nats.go, nats.js and NATS.Client.Services write.
    private byte[] Describe(string verb, Service service, Entry[] endpoints)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", service.Name);
            json.WriteString("id", _id);
            json.WriteString("version", _version);
            json.WriteStartObject("metadata");
            json.WriteString("plexus.namespace", service.Namespace);
            json.WriteString("plexus.component", service.Component);
            json.WriteString("plexus.address", _server.Address.ToString());
            json.WriteEndObject();
            switch (verb)
            {
                case "PING":
                    json.WriteString("type", "io.nats.micro.v1.ping_response");
                    break;
                case "INFO":
                    json.WriteString("type", "io.nats.micro.v1.info_response");
                    json.WriteString("description", $"Plexus component {service.Namespace}/{service.Component}");
                    json.WriteStartArray("endpoints");
                    foreach (var entry in endpoints)
                    {
                        json.WriteStartObject();
                        WriteEndpoint(json, entry);
                        json.WriteStartObject("metadata");
                        json.WriteString("plexus.endpoint", entry.Endpoint.ToString());
                        json.WriteString("plexus.instance", entry.Instance.ToString());
                        json.WriteString("plexus.subject", NatsAddress.RequestSubject(_options.SubjectPrefix, entry.Endpoint, entry.Instance, _id));
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    break;
                default:
                    json.WriteString("type", "io.nats.micro.v1.stats_response");
                    json.WriteString("started", _started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                    json.WriteStartArray("endpoints");
                    foreach (var entry in endpoints)
                    {
                        var stats = _stats.GetOrAdd(entry.Endpoint, static _ => new NatsEndpointStats());
                        json.WriteStartObject();
                        WriteEndpoint(json, entry);
                        json.WriteNumber("num_requests", stats.Requests);
                        json.WriteNumber("num_errors", stats.Errors);
                        json.WriteString("last_error", stats.LastError);
                        json.WriteNumber("processing_time", stats.ProcessingNanoseconds);
                        json.WriteNumber("average_processing_time", stats.AverageNanoseconds);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    break;
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteEndpoint(Utf8JsonWriter json, Entry entry)
    {
        json.WriteString("name", NatsServiceNames.Endpoint(entry.Endpoint));
        json.WriteString("subject", entry.Subject);
        json.WriteString("queue_group", _options.QueueGroup);
    }

    private sealed class Entry(EndpointAddress endpoint, InstanceId instance, string subject)
    {
        public EndpointAddress Endpoint { get; } = endpoint;

        public InstanceId Instance { get; } = instance;

        public string Subject { get; } = subject;

        public NatsSubscription? Queue { get; set; }
    }

    private sealed class Service(string name, string ns, string component)
    {
        public string Name { get; } = name;

        public string Namespace { get; } = ns;

        public string Component { get; } = component;

        public HashSet<EndpointAddress> Endpoints { get; } = [];

        public List<NatsSubscription> Subscriptions { get; } = [];
    }

    // Requests on an endpoint's queue subject go to the server with the instance it serves the endpoint as.
    private sealed class QueueReceiver(NatsServer server, EndpointAddress endpoint, InstanceId instance) : INatsMessageReceiver
    {
        public ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload) =>
            server.OnQueuedAsync(endpoint, instance, replyTo, headers, payload);
    }

    private sealed class VerbReceiver(NatsServices services, string verb, string? name) : INatsMessageReceiver
    {
        public ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload) =>
            services.AnswerAsync(verb, name, replyTo);
    }
}
