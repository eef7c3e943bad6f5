using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// Discovery on etcd (docs/discovery.md, "etcd provider"). Each instance is one key,
/// <c>&lt;prefix&gt;/&lt;namespace&gt;/&lt;component&gt;/&lt;endpoint&gt;/&lt;instance-id&gt;</c>, holding the instance as
/// JSON and attached to the one lease of this node (<see cref="EtcdSession"/>), so a node that stops renewing vanishes
/// with everything it registered. Watches list an endpoint and then follow etcd's watch from the next revision,
/// resuming from the last revision seen after a reconnect and listing afresh when etcd compacted that revision away
/// (<see cref="EtcdWatcher"/>). While etcd cannot be reached the provider reports itself degraded in <see cref="Health"/>.
/// </summary>
internal sealed class EtcdDiscoveryProvider : IDiscoveryProvider, IAsyncDisposable, IDisposable
{
    private const int PageSize = 1000;

    private readonly ILogger<EtcdDiscoveryProvider> _logger;
    private readonly ConcurrentDictionary<string, string> _warned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, string> _watchProblems = new();
    private long _watchIds;
    private int _disposed;

    public EtcdDiscoveryProvider(IOptions<EtcdDiscoveryOptions> options, ILogger<EtcdDiscoveryProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        Options = options.Value;
        Layout = new EtcdKeyLayout(Options.Prefix);
        Connection = new EtcdConnection(Options);
        Session = new EtcdSession(Connection, Options, logger);
    }

    public string Name => "etcd";

    /// <summary>
    /// Degraded while this node's registrations cannot be published (etcd unreachable, credentials refused) or a watch
    /// is disconnected; the description says which, why and what to check.
    /// </summary>
    public TransportHealth Health
    {
        get
        {
            if (Session.Problem is { } problem)
            {
                return new TransportHealth(HealthStatus.Degraded, $"registrations are not published: {problem}");
            }

            foreach (var (_, watch) in _watchProblems)
            {
                return new TransportHealth(HealthStatus.Degraded, watch);
            }

            return TransportHealth.Healthy;
        }
    }

    internal EtcdDiscoveryOptions Options { get; }

    internal EtcdKeyLayout Layout { get; }

    internal EtcdConnection Connection { get; }

    internal EtcdSession Session { get; }

    internal ILogger Logger => _logger;

    public async ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();

        // The etcd lease is the node's (Plexus:Discovery:Etcd:LeaseTtl), shared by all its instances; timeToLive only
        // has to be valid.
        var copy = instance with { Metadata = new Dictionary<string, string>(instance.Metadata, StringComparer.Ordinal) };
        var registration = await Session.RegisterAsync(Layout.InstanceKey(instance.Endpoint, instance.Id), copy, cancellationToken);
        return new EtcdDiscoveryLease(Session, registration);
    }

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(EndpointAddress endpoint, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var watcher = new EtcdWatcher(this, endpoint, Interlocked.Increment(ref _watchIds));
        try
        {
            while (true)
            {
                DiscoveryEvent next;
                try
                {
                    next = await watcher.NextAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                yield return next;
            }
        }
        finally
        {
            watcher.Dispose();
        }
    }

    public async ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        var prefix = endpoint is { } one ? Layout.EndpointPrefix(one) : Layout.AllPrefix;
        EtcdListing listing;
        try
        {
            listing = await RangeAsync(prefix, endpoint, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not PlexusException)
        {
            EtcdLog.ListFailed(_logger, prefix, Connection.Describe(ex));
            throw PlexusException.Unavailable($"Discovery could not list {endpoint?.ToString() ?? "the instances"}: {Connection.Describe(ex)}.", ex);
        }

        return [.. listing.Instances.Values.OrderBy(i => i.Endpoint.ToString(), StringComparer.Ordinal).ThenBy(i => i.Id.Value)];
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Session.DisposeAsync();
        Connection.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Every instance under <paramref name="prefix"/> at one revision, read in pages of <see cref="PageSize"/> keys;
    /// keys that are not instances of <paramref name="endpoint"/> (or of any endpoint, when null) are skipped with a warning.
    /// </summary>
    internal async Task<EtcdListing> RangeAsync(string prefix, EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        var end = ByteString.CopyFrom(EtcdKeyLayout.RangeEnd(prefix));
        var from = ByteString.CopyFromUtf8(prefix);
        var instances = new Dictionary<string, Instance>(StringComparer.Ordinal);
        long revision = 0;
        ulong clusterId = 0;
        while (true)
        {
            var page = await Connection.KV.RangeAsync(
                new RangeRequest { Key = from, RangeEnd = end, Limit = PageSize, Revision = revision },
                deadline: Connection.Deadline(),
                cancellationToken: cancellationToken);
            if (revision == 0)
            {
                // Later pages are read at the first one's revision, so the listing is one consistent snapshot.
                revision = page.Header.Revision;
                clusterId = page.Header.ClusterId;
            }

            foreach (var kv in page.Kvs)
            {
                var key = kv.Key.ToStringUtf8();
                if (Parse(key, kv.Value.Memory, endpoint) is { } instance)
                {
                    instances[key] = instance;
                }
            }

            if (!page.More || page.Kvs.Count == 0)
            {
                return new EtcdListing(instances, revision, clusterId);
            }

            // The next page starts right after the last key of this one.
            var last = page.Kvs[^1].Key.ToByteArray();
            from = ByteString.CopyFrom([.. last, 0]);
        }
    }

    /// <summary>The instance a key holds, or null (with one warning per key and problem) when it holds none.</summary>
    internal Instance? Parse(string key, ReadOnlyMemory<byte> value, EndpointAddress? endpoint)
    {
        string problem;
        if (!Layout.TryParse(key, out var keyEndpoint, out var id))
        {
            problem = $"it is not laid out as {Layout.Prefix}/<namespace>/<component>/<endpoint>/<16 hex digit instance id>";
        }
        else if (endpoint is { } expected && keyEndpoint != expected)
        {
            problem = $"it is not an instance of {expected}";
        }
        else if (EtcdInstanceRecord.TryParse(value, out problem) is { } instance)
        {
            if (instance.Endpoint == keyEndpoint && instance.Id == id)
            {
                _warned.TryRemove(key, out _);
                return instance;
            }

            problem = $"its value names {instance.Endpoint} instance {instance.Id}, not the one its key names";
        }

        if (!_warned.TryGetValue(key, out var previous) || previous != problem)
        {
            _warned[key] = problem;
            EtcdLog.IgnoringKey(_logger, key, problem);
        }

        return null;
    }

    /// <summary>Records (or, with null, clears) why a watch is disconnected, for <see cref="Health"/>.</summary>
    internal void SetWatchProblem(long watch, string? problem)
    {
        if (problem is null)
        {
            _watchProblems.TryRemove(watch, out _);
        }
        else
        {
            _watchProblems[watch] = problem;
        }
    }
}
