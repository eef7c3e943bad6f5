using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Bulk;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Telemetry;

namespace Plexus.Hosting.RequestPlane.Client;

/// <summary>
/// The client side of the request plane: finds an endpoint's instances through discovery, keeps per-instance
/// in-flight and health state, asks the router strategy for one, and sends the request over the first transport of
/// this node's preference list (<c>Plexus:RequestPlane:Transports</c>) that the instance offers, or else the first the
/// instance offers that is loaded here. A request that fails before any response arrived is retried on another instance; every other
/// failure reaches the caller as a <see cref="PlexusException"/>.
/// </summary>
internal sealed class PlexusClient : IPlexusClient, IAsyncDisposable
{
    private readonly PlexusComposition _composition;
    private readonly RouterOptions _router;
    private readonly RequestPlaneOptions _requestPlane;
    private readonly TimeProvider _time;
    private readonly RequestPlaneMetrics _metrics;
    private readonly BulkPath _bulk;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<EndpointAddress, EndpointInstances> _endpoints = new();
    private readonly ConcurrentDictionary<string, IRequestPlaneClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly Func<Instance, Instance?> _route;
    private int _disposed;

    public PlexusClient(PlexusComposition composition, IOptions<PlexusOptions> options, RequestPlaneMetrics metrics, BulkPath bulk, TimeProvider time, ILogger<PlexusClient> logger)
    {
        _bulk = bulk;
        _metrics = metrics;
        _composition = composition;
        _router = options.Value.Router;
        _requestPlane = options.Value.RequestPlane;
        _time = time;
        _logger = logger;
        _random = _router.Seed is int seed ? new Random(seed) : new Random();
        _route = Route;
    }

    /// <summary>The instances of <paramref name="endpoint"/> this client currently knows, with its own view of them.</summary>
    public IReadOnlyList<InstanceState> KnownInstances(EndpointAddress endpoint) => Instances(endpoint).Snapshot;

    /// <summary>Calls an endpoint and returns its response stream, positioned before the first message.</summary>
    /// <exception cref="PlexusException">No instance could take the request, or it failed before its stream began.</exception>
    public async ValueTask<IResponseStream> CallAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= CallOptions.Default;
        var instances = Instances(endpoint);
        var timeoutAfter = options.Timeout ?? _requestPlane.DefaultTimeout;
        CancellationTokenSource? timeout = null;
        var token = cancellationToken;
        DateTimeOffset? deadline = null;
        if (timeoutAfter > TimeSpan.Zero)
        {
            timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(timeoutAfter);
            token = timeout.Token;
            deadline = _time.GetUtcNow() + timeoutAfter;
        }

        var activity = PlexusActivity.Source.StartActivity("plexus.client.send", ActivityKind.Client);
        activity?.SetTag("plexus.endpoint", instances.Name);
        CallTelemetry? telemetry = null;
        try
        {
            // A call with a timeout of its own waits for discovery's answer as long as that timeout allows.
            var answerWait = timeout is null ? _router.DiscoveryAnswerWait : Timeout.InfiniteTimeSpan;
            bool found;
            try
            {
                found = await instances.WaitForInstancesAsync(answerWait, _router.DiscoveryWait, token);
            }
            catch (OperationCanceledException) when (timeout is not null && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new PlexusException(PlexusErrorCode.Timeout, $"The call's timeout of {timeoutAfter} ran out while waiting for discovery: {NotFound(endpoint, instances, null)}");
            }

            if (!found)
            {
                throw new PlexusException(PlexusErrorCode.Unavailable, NotFound(endpoint, instances, answerWait));
            }

            var request = new OutgoingRequest(endpoint, default, NewRequestId(), payload, WithTraceContext(options.Headers, activity), deadline);
            activity?.SetTag("plexus.request_id", request.RequestId);
            var tried = new List<InstanceState>();
            PlexusException? last = null;
            for (var attempt = 0; attempt <= _router.MaxRetries; attempt++)
            {
                var (target, routed) = Pick(endpoint, instances.Snapshot, tried, options.Instance, request.RequestId, request.Headers, last);
                tried.Add(target);
                telemetry ??= new CallTelemetry(_metrics, _time, activity, instances.Name, routed.Transport, payload.Length, server: false);
                activity?.SetTag("plexus.instance", target.Instance.Id.ToString());
                target.Enter();
                IResponseStream? stream = null;
                try
                {
                    var client = ClientFor(routed.Transport);
                    (stream, var first) = await SendAsync(client, routed, request with { Instance = routed.Id }, token);
                    target.MarkHealthy();
                    var response = new RoutedResponseStream(stream, target, first, timeout, cancellationToken, telemetry);
                    timeout = null;
                    telemetry = null;
                    return response;
                }
                catch (PlexusException ex) when (ex.BeforeFirstByte && attempt < _router.MaxRetries && !token.IsCancellationRequested)
                {
                    target.Leave();
                    if (stream is not null)
                    {
                        await stream.DisposeAsync();
                    }

                    Penalise(target, ex);
                    last = ex;
                    _logger.LogDebug(new EventId(1202, "RequestRetried"), "Request to {Endpoint} instance {Instance} failed before any response ({Code}); trying another instance.", endpoint, target.Instance.Id, ex.Code);
                }
                catch (Exception ex)
                {
                    target.Leave();
                    if (stream is not null)
                    {
                        await stream.DisposeAsync();
                    }

                    if (ex is PlexusException { BeforeFirstByte: true } typed)
                    {
                        Penalise(target, typed);
                    }

                    throw;
                }
            }

            throw last!;
        }
        catch (Exception ex)
        {
            var mapped = RoutedResponseStream.Translate(ex, timeout, cancellationToken);
            telemetry ??= new CallTelemetry(_metrics, _time, activity, instances.Name, "none", payload.Length, server: false);
            telemetry.End(mapped);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
        finally
        {
            timeout?.Dispose();
        }
    }

    /// <summary>
    /// Sends the request to one instance and reads its first message. With the bulk path on, a payload over the
    /// threshold goes as a descriptor the server pulls (its buffer is kept until the server answers, which it does only
    /// after the pull), and responses are asked for by bulk transfer; a failed pull sends the payload again inline.
    /// </summary>
    private async ValueTask<(IResponseStream Stream, bool First)> SendAsync(IRequestPlaneClient client, Instance target, OutgoingRequest request, CancellationToken token)
    {
        if (!_bulk.IsConfigured)
        {
            var plain = await client.SendAsync(target.Address, request, token);
            return (plain, await FirstAsync(plain, token));
        }

        var accept = _bulk.SharesTransportWith(target);
        if (!_bulk.ShouldOffer(request.Payload.Length, target))
        {
            var inline = await Wrap(client.SendAsync(target.Address, request with { Headers = _bulk.Headers(request.Headers, accept, offer: false) }, token), client, target, accept);
            return (inline, await FirstAsync(inline, token));
        }

        var (buffer, record) = await _bulk.OfferAsync(request.Payload, token);
        var pulled = false;
        try
        {
            var offered = await Wrap(client.SendAsync(target.Address, request with { Payload = record, Headers = _bulk.Headers(request.Headers, accept, offer: true) }, token), client, target, accept);
            try
            {
                var first = await offered.MoveNextAsync(token);
                pulled = true;
                return (offered, first);
            }
            catch (PlexusException ex) when (ex.Code == PlexusErrorCode.BulkUnavailable)
            {
                // Nothing ran on the server: the same request goes again, this time with its bytes.
                pulled = true;
                await offered.DisposeAsync();
                _bulk.Failed(target, request.Payload.Length, ex);
            }
            catch
            {
                await offered.DisposeAsync();
                throw;
            }
        }
        finally
        {
            // A server that answered has pulled the bytes; otherwise it may still be reading, so the buffer is never reused
            // and stays registered for the grace period.
            if (pulled)
            {
                _bulk.Pool!.Return(buffer);
            }
            else
            {
                _bulk.Pool!.Retire(buffer);
            }
        }

        var again = await Wrap(client.SendAsync(target.Address, request with { Headers = _bulk.Headers(request.Headers, accept, offer: false) }, token), client, target, accept);
        return (again, await FirstAsync(again, token));
    }

    private async ValueTask<IResponseStream> Wrap(ValueTask<IResponseStream> sending, IRequestPlaneClient client, Instance target, bool accept)
    {
        var stream = await sending;
        return accept ? new BulkResponseStream(stream, _bulk, client, target) : stream;
    }

    private static async ValueTask<bool> FirstAsync(IResponseStream stream, CancellationToken token)
    {
        try
        {
            return await stream.MoveNextAsync(token);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Says why no instance is known: discovery has not answered yet, or answered and has none.</summary>
    private string NotFound(EndpointAddress endpoint, EndpointInstances instances, TimeSpan? answerWait)
    {
        var discovery = _composition.Discovery.Name;
        var problem = instances.Problem is { } p ? $" (its last attempt failed: {p})" : string.Empty;
        if (!instances.HasAnswered)
        {
            var within = answerWait is { } wait ? $" within {wait} (Plexus:Router:DiscoveryAnswerWait)" : string.Empty;
            return $"Discovery '{discovery}' has not answered whether {endpoint} has instances{within}{problem}; the machine may be overloaded or discovery unreachable. Retry, give the call a longer --timeout, or raise Plexus:Router:DiscoveryAnswerWait.";
        }

        if (instances.Listed is > 0 and var listed)
        {
            return $"Discovery '{discovery}' lists {listed} instance(s) of {endpoint}, but its watch has not delivered them yet{problem}; the machine may be overloaded. Retry, or give the call a longer --timeout.";
        }

        return $"No instance of {endpoint} is registered in discovery '{discovery}': it answered with none, and none appeared within {_router.DiscoveryWait} (Plexus:Router:DiscoveryWait). Start a node that serves it, or check that both nodes use the same Plexus:Discovery settings.";
    }

    /// <summary>
    /// Chooses the next instance: drop those tried, busy or unhealthy, then ask the strategy. The request's own header map
    /// goes to the strategy as it is (no copy), so that key-based strategies cost nothing extra per pick.
    /// </summary>
    private (InstanceState State, Instance Routed) Pick(EndpointAddress endpoint, InstanceState[] snapshot, List<InstanceState> tried, InstanceId? target, string requestId, IReadOnlyDictionary<string, string> headers, PlexusException? last)
    {
        var now = _time.GetTimestamp();
        var candidates = ArrayPool<RouteCandidate>.Shared.Rent(Math.Max(snapshot.Length, 1));
        var states = ArrayPool<InstanceState>.Shared.Rent(Math.Max(snapshot.Length, 1));
        var routes = ArrayPool<Instance>.Shared.Rent(Math.Max(snapshot.Length, 1));
        try
        {
            int count = 0, busy = 0, untried = 0;
            // First pass prefers healthy instances; a second pass lets unhealthy ones be probed rather than fail.
            for (var pass = 0; pass < 2 && count == 0; pass++)
            {
                busy = 0;
                untried = 0;
                foreach (var state in snapshot)
                {
                    if (tried.Contains(state) || state.Routed is not { } routed)
                    {
                        continue;
                    }

                    untried++;
                    if (state.IsBusy(now, _router.MaxInFlightPerInstance))
                    {
                        busy++;
                        continue;
                    }

                    if (pass == 0 && state.IsUnhealthy(now))
                    {
                        continue;
                    }

                    states[count] = state;
                    routes[count] = routed;
                    candidates[count++] = new RouteCandidate(state.Instance, state.InFlight);
                }
            }

            if (count == 0)
            {
                if (last is not null)
                {
                    throw last;
                }

                if (untried > 0 && busy == untried)
                {
                    throw new PlexusException(PlexusErrorCode.Overloaded, $"All {busy} instances of {endpoint} are busy; retry later or add instances.");
                }

                throw new PlexusException(
                    PlexusErrorCode.Unavailable,
                    $"No instance of {endpoint} can be reached over a loaded transport (known: {snapshot.Length}, offering {Offered(snapshot)}; transports loaded here: {string.Join(", ", _composition.Transports.Names)}). Load the plugin of a transport they offer, or serve the endpoint on a transport loaded here.");
            }

            // Asking for one instance by id overrides the configured strategy: the caller meant exactly that one.
            var strategy = target is null ? _composition.Router : _composition.Routers.Get("direct");
            int index;
            lock (_randomGate)
            {
                // Random is not thread-safe; strategies draw from it inside Pick only.
                index = strategy.Pick(candidates.AsSpan(0, count), new RouteContext(endpoint, requestId, target, _random) { Headers = headers });
            }

            if ((uint)index >= (uint)count)
            {
                throw new PlexusException(
                    PlexusErrorCode.Unavailable,
                    target is InstanceId id
                        ? $"Instance {id} of {endpoint} is not among the {count} available instances; list them with the 'instances' command."
                        : $"Router strategy '{strategy.Name}' chose no instance of {endpoint}.");
            }

            return (states[index], routes[index]);
        }
        finally
        {
            Array.Clear(routes, 0, snapshot.Length);
            ArrayPool<Instance>.Shared.Return(routes);
            Array.Clear(states, 0, snapshot.Length);
            Array.Clear(candidates, 0, snapshot.Length);
            ArrayPool<InstanceState>.Shared.Return(states);
            ArrayPool<RouteCandidate>.Shared.Return(candidates);
        }
    }

    private static string Offered(InstanceState[] snapshot)
    {
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var state in snapshot)
        {
            foreach (var address in state.Instance.Addresses)
            {
                names.Add(address.Transport);
            }
        }

        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    private void Penalise(InstanceState target, PlexusException ex)
    {
        var now = _time.GetTimestamp();
        if (ex.Code == PlexusErrorCode.Overloaded)
        {
            target.MarkBusy(now + ToTimestamp(_router.BusyFor));
        }
        else
        {
            target.MarkUnhealthy(now + ToTimestamp(_router.UnhealthyFor));
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private EndpointInstances Instances(EndpointAddress endpoint)
    {
        if (_endpoints.TryGetValue(endpoint, out var existing))
        {
            return existing;
        }

        var created = new EndpointInstances(endpoint, _composition.Discovery, _logger, _route);
        var winner = _endpoints.GetOrAdd(endpoint, created);
        if (ReferenceEquals(winner, created))
        {
            created.Start();
        }

        return winner;
    }

    /// <summary>
    /// The instance as this client reaches it: over the first transport of this node's preference list that the instance
    /// offers, else the first the instance offers that is loaded here; null when it offers none loaded here. The instance
    /// itself when that is its first address, so that single-transport fleets copy nothing.
    /// </summary>
    private Instance? Route(Instance instance)
    {
        var addresses = instance.Addresses;
        foreach (var preferred in _requestPlane.ServingTransports)
        {
            for (var i = 0; i < addresses.Count; i++)
            {
                if (string.Equals(addresses[i].Transport, preferred, StringComparison.OrdinalIgnoreCase) && _composition.Transports.TryGet(preferred, out _))
                {
                    return Via(instance, i);
                }
            }
        }

        for (var i = 0; i < addresses.Count; i++)
        {
            if (_composition.Transports.TryGet(addresses[i].Transport, out _))
            {
                return Via(instance, i);
            }
        }

        return null;

        static Instance Via(Instance instance, int index) =>
            index == 0 ? instance : instance with { Transport = instance.Addresses[index].Transport, Address = instance.Addresses[index].Address };
    }

    private IRequestPlaneClient ClientFor(string transport) =>
        _clients.GetOrAdd(transport, static (name, transports) => transports.Get(name).CreateClient(), _composition.Transports);

    private static string NewRequestId() => Guid.NewGuid().ToString("N");

    private static IReadOnlyDictionary<string, string> WithTraceContext(IReadOnlyDictionary<string, string>? headers, Activity? span)
    {
        var activity = span ?? Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || (headers?.ContainsKey(PlexusHeaders.TraceParent) ?? false))
        {
            return headers ?? Instance.EmptyMetadata;
        }

        var withTrace = headers is null ? new Dictionary<string, string>(1) : new Dictionary<string, string>(headers);
        withTrace[PlexusHeaders.TraceParent] = activity.Id!;
        if (!string.IsNullOrEmpty(activity.TraceStateString))
        {
            withTrace[PlexusHeaders.TraceState] = activity.TraceStateString;
        }

        return withTrace;
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes this once for PlexusClient and once more for IPlexusClient, which AddPlexus forwards here.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var endpoint in _endpoints.Values)
        {
            await endpoint.DisposeAsync();
        }

        // Releases of pulled messages travel over the transport clients disposed next.
        await _bulk.ReleasesSentAsync(TimeSpan.FromSeconds(2));

        foreach (var client in _clients.Values)
        {
            await client.DisposeAsync();
        }
    }
}
