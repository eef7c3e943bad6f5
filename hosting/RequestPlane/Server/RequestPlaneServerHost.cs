using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Bulk;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Endpoints;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.Telemetry;

namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>
/// The serving side of the node: one transport server for every endpoint of the process on each configured transport
/// (<c>Plexus:RequestPlane:Transports</c>), each endpoint registered in discovery once, with every server's address,
/// under a lease that is kept alive. Shutdown unregisters from discovery first (so that
/// clients stop choosing this node), then drains in-flight requests within the grace period, then stops.
/// </summary>
internal sealed partial class RequestPlaneServerHost : IHostedService, IAsyncDisposable
{
    private readonly PlexusComposition _composition;
    private readonly IServiceProvider _services;
    private readonly IEnumerable<EndpointRegistration> _registrations;
    private readonly PlexusOptions _options;
    private readonly NodeIdentity _node;
    private readonly RequestPlaneMetrics _metrics;
    private readonly BulkPath _bulk;
    private readonly TimeProvider _time;
    private readonly ILogger<RequestPlaneServerHost> _logger;
    private readonly List<Lease> _leases = [];
    private readonly CancellationTokenSource _stopping = new();
    private Listener[] _listeners = [];
    private Task? _keepAlive;
    private volatile bool _draining;
    private string? _discoveryProblem;

    public RequestPlaneServerHost(
        PlexusComposition composition,
        IServiceProvider services,
        IEnumerable<EndpointRegistration> registrations,
        IOptions<PlexusOptions> options,
        NodeIdentity node,
        RequestPlaneMetrics metrics,
        BulkPath bulk,
        TimeProvider time,
        ILogger<RequestPlaneServerHost> logger)
    {
        _composition = composition;
        _services = services;
        _registrations = registrations;
        _options = options.Value;
        _node = node;
        _metrics = metrics;
        _bulk = bulk;
        _time = time;
        _logger = logger;
    }

    /// <summary>The first (preferred) server's advertised address, once started.</summary>
    public Uri? Address => Listeners is [var first, ..] ? first.Address : null;

    /// <summary>Every transport served, in the node's order of preference; empty until started.</summary>
    public IReadOnlyList<Listener> Listeners => Volatile.Read(ref _listeners);

    /// <summary>Why the last discovery renewal failed, or null while renewals succeed.</summary>
    public string? DiscoveryProblem => Volatile.Read(ref _discoveryProblem);

    /// <summary>Whether shutdown has begun.</summary>
    public bool IsDraining => _draining;

    /// <summary>The endpoints served now.</summary>
    public IReadOnlyList<ServedEndpoint> Endpoints
    {
        get
        {
            lock (_leases)
            {
                var served = new List<ServedEndpoint>(_leases.Count);
                foreach (var lease in _leases)
                {
                    served.Add(new ServedEndpoint(lease.Current.Instance));
                }

                return served;
            }
        }
    }

    /// <summary>
    /// Sets or removes one metadata key on every lease of <paramref name="endpoint"/> and publishes it; the updated
    /// instance is what a lost lease registers again with, so the fact survives a re-registration.
    /// </summary>
    /// <returns>Whether any instance of the endpoint is served here.</returns>
    public async ValueTask<bool> UpdateMetadataAsync(EndpointAddress endpoint, string key, string? value, CancellationToken cancellationToken)
    {
        Lease[] matching;
        lock (_leases)
        {
            matching = [.. _leases.Where(l => l.Current.Instance.Endpoint == endpoint)];
        }

        foreach (var lease in matching)
        {
            // One update at a time per lease, so that two keys set concurrently do not overwrite each other.
            await lease.Updates.WaitAsync(cancellationToken);
            try
            {
                var metadata = new Dictionary<string, string>(lease.Current.Instance.Metadata, StringComparer.Ordinal);
                if (value is null)
                {
                    metadata.Remove(key);
                }
                else
                {
                    metadata[key] = value;
                }

                await lease.Current.UpdateAsync(metadata, cancellationToken);
            }
            finally
            {
                lease.Updates.Release();
            }
        }

        return matching.Length > 0;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var registrations = _services.GetRequiredService<EndpointSelection>().Select(_registrations);
        if (!_options.Server.Enabled || registrations.Count == 0)
        {
            LogNotServing(_options.Server.Enabled ? "no endpoints are registered" : "Plexus:Server:Enabled is false");
            return;
        }

        var transports = _composition.ServingTransports;
        var discovery = _composition.Discovery;
        var ids = new InstanceId[registrations.Count];
        var handlers = new IEndpointHandler[registrations.Count];
        for (var i = 0; i < registrations.Count; i++)
        {
            ids[i] = InstanceId.NewId();
            handlers[i] = registrations[i].CreateHandler(_services);
        }

        var listeners = new List<Listener>(transports.Count);
        try
        {
            foreach (var transport in transports)
            {
                listeners.Add(await StartListenerAsync(transport, registrations, ids, handlers, cancellationToken));
            }
        }
        catch
        {
            // A later transport failed to start: the ones already listening stop, as nothing was registered yet.
            foreach (var started in listeners)
            {
                await started.Server.DisposeAsync();
            }

            throw;
        }

        Volatile.Write(ref _listeners, [.. listeners]);
        var addresses = new InstanceAddress[listeners.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = new InstanceAddress(listeners[i].Transport, listeners[i].Address);
        }

        for (var i = 0; i < registrations.Count; i++)
        {
            var metadata = new Dictionary<string, string> { [InstanceMetadataKeys.Node] = _node.Id };
            _bulk.Advertise(metadata);
            var instance = new Instance(registrations[i].Endpoint, ids[i], addresses[0].Transport, addresses[0].Address, metadata) { Addresses = addresses };
            var lease = await discovery.RegisterAsync(instance, _options.Discovery.LeaseTtl, cancellationToken);
            lock (_leases)
            {
                _leases.Add(new Lease(lease));
            }
        }

        _keepAlive = Task.Run(() => KeepAliveAsync(_stopping.Token), CancellationToken.None);
        foreach (var listener in listeners)
        {
            LogServing(registrations.Count, listener.Transport, listener.Address, discovery.Name);
        }
    }

    /// <summary>Starts one transport's server with every endpoint registered in its dispatcher before it accepts.</summary>
    private async Task<Listener> StartListenerAsync(ITransportFactory transport, IReadOnlyList<EndpointRegistration> registrations, InstanceId[] ids, IEndpointHandler[] handlers, CancellationToken cancellationToken)
    {
        var dispatcher = new RequestDispatcher(_time) { Bulk = _bulk.IsConfigured ? _bulk : null };
        for (var i = 0; i < registrations.Count; i++)
        {
            // Registered before the server starts, so that the first request already finds its endpoint.
            var endpoint = registrations[i].Endpoint;
            dispatcher.Register(endpoint, ids[i], new InstrumentedHandler(handlers[i], _metrics, _time, endpoint.ToString(), transport.Name));
        }

        var server = transport.CreateServer();
        try
        {
            await server.StartAsync(dispatcher, cancellationToken);
        }
        catch
        {
            // Never started, so there is nothing to drain: without this, stopping would log a drain that never was.
            await server.DisposeAsync();
            throw;
        }

        return new Listener(transport.Name, server, dispatcher);
    }

    /// <summary>Renews every lease at a third of its time to live; a lost lease is registered again.</summary>
    private async Task KeepAliveAsync(CancellationToken stopping)
    {
        var period = _options.Discovery.LeaseTtl / 3;
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                Lease[] leases;
                lock (_leases)
                {
                    leases = [.. _leases];
                }

                foreach (var lease in leases)
                {
                    try
                    {
                        await lease.Current.RenewAsync(stopping);
                        Volatile.Write(ref _discoveryProblem, null);
                    }
                    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception ex)
                    {
                        Volatile.Write(ref _discoveryProblem, $"renewing {lease.Current.Instance.Endpoint} failed: {ex.Message}");
                        LogLeaseLost(ex, lease.Current.Instance.Endpoint, lease.Current.Instance.Id);
                        await TryRegisterAgainAsync(lease, stopping);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task TryRegisterAgainAsync(Lease lease, CancellationToken stopping)
    {
        try
        {
            var fresh = await _composition.Discovery.RegisterAsync(lease.Current.Instance, _options.Discovery.LeaseTtl, stopping);
            var old = lease.Current;
            lease.Current = fresh;
            await DisposeQuietlyAsync(old);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRegisterFailed(ex, lease.Current.Instance.Endpoint);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var listeners = Volatile.Read(ref _listeners);
        if (listeners.Length == 0 || _draining)
        {
            return;
        }

        _draining = true;
        await _stopping.CancelAsync();
        if (_keepAlive is not null)
        {
            await _keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Leave discovery first so that no client picks this node while it drains.
        Lease[] leases;
        lock (_leases)
        {
            leases = [.. _leases];
            _leases.Clear();
        }

        foreach (var lease in leases)
        {
            await DisposeQuietlyAsync(lease.Current);
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.Server.DrainTimeout);
        var started = _time.GetTimestamp();
        var drains = new Task<bool>[listeners.Length];
        for (var i = 0; i < drains.Length; i++)
        {
            drains[i] = listeners[i].Dispatcher.DrainAsync(listeners[i].Server, grace.Token).AsTask();
        }

        var cutShort = false;
        foreach (var finished in await Task.WhenAll(drains))
        {
            cutShort |= !finished;
        }

        // Responses offered by bulk transfer are pulled after their streams ended: their memory stays for up to two
        // more seconds of the grace period, so that clients reading the last of them do not find it gone. (Their
        // releases may not get through a transport that stopped accepting, so the wait is short.)
        using (var pulls = CancellationTokenSource.CreateLinkedTokenSource(grace.Token))
        {
            pulls.CancelAfter(TimeSpan.FromSeconds(2));
            await _bulk.HoldsReleasedAsync(pulls.Token);
        }
        if (cutShort)
        {
            LogDrainAborted(cancellationToken.IsCancellationRequested ? _time.GetElapsedTime(started) : _options.Server.DrainTimeout);
        }
        else
        {
            LogDrained(_time.GetElapsedTime(started));
        }

        foreach (var listener in listeners)
        {
            await listener.Server.DisposeAsync();
        }
    }

    private async Task DisposeQuietlyAsync(IDiscoveryLease lease)
    {
        try
        {
            await lease.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogUnregisterFailed(ex, lease.Instance.Endpoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_draining && Listeners.Count > 0)
        {
            await StopAsync(CancellationToken.None);
        }

        _stopping.Dispose();
    }

    private sealed class Lease(IDiscoveryLease current)
    {
        public IDiscoveryLease Current { get; set; } = current;

        public SemaphoreSlim Updates { get; } = new(1, 1);
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Serving {Count} endpoints over {Transport} at {Address}, registered in discovery '{Discovery}'.")]
    private partial void LogServing(int count, string transport, Uri address, string discovery);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Not serving: {Reason}.")]
    private partial void LogNotServing(string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Discovery lease of {Endpoint} instance {Instance} was lost; registering again.")]
    private partial void LogLeaseLost(Exception ex, EndpointAddress endpoint, InstanceId instance);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Registering {Endpoint} in discovery again failed; the next renewal retries.")]
    private partial void LogRegisterFailed(Exception ex, EndpointAddress endpoint);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Drained in-flight requests in {Elapsed}.")]
    private partial void LogDrained(TimeSpan elapsed);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "In-flight requests did not finish within {Grace}; aborting them (raise Plexus:Server:DrainTimeout to wait longer).")]
    private partial void LogDrainAborted(TimeSpan grace);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Removing {Endpoint} from discovery failed; it vanishes when its lease expires.")]
    private partial void LogUnregisterFailed(Exception ex, EndpointAddress endpoint);
}
