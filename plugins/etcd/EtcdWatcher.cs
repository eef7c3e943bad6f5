using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mvccpb;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// One watch of one endpoint. It lists the endpoint (one consistent snapshot at revision R) and hands out an
/// <see cref="DiscoveryEventKind.Added"/> per instance, then follows etcd's watch from R + 1, turning each put into
/// Added or Updated and each delete into Removed against what it has handed out so far. It remembers the revision of
/// the last change it applied, so when the stream breaks (etcd restarted, a member died, the network dropped) it waits
/// with backoff and watches again from the next revision: every change made meanwhile arrives, none twice. When etcd
/// has compacted that revision away (or a different cluster answers), it lists the endpoint again and hands out the
/// difference between the two views as Added, Removed and Updated: the consumer's set ends up right, though changes
/// that cancelled out in between are not seen. The stream is read only when the consumer asks for the next event, so a
/// slow consumer holds etcd back by gRPC flow control rather than by memory here.
/// </summary>
internal sealed class EtcdWatcher : IDisposable
{
    // etcd cancels a watch on a member that lost its leader only when the client asks it to, so that a member cut off
    // from the rest of its cluster does not keep a watch silently idle.
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    private readonly EtcdDiscoveryProvider _provider;
    private readonly EndpointAddress _endpoint;
    private readonly string _prefix;
    private readonly long _id;
    private readonly Dictionary<string, Instance> _known = new(StringComparer.Ordinal);
    private readonly Queue<DiscoveryEvent> _pending = new();
    private readonly Backoff _backoff = new();
    private AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? _call;
    private long _revision;
    private ulong _clusterId;
    private bool _listed;
    private bool _broken;

    public EtcdWatcher(EtcdDiscoveryProvider provider, EndpointAddress endpoint, long id)
    {
        _provider = provider;
        _endpoint = endpoint;
        _prefix = provider.Layout.EndpointPrefix(endpoint);
        _id = id;
    }

    /// <summary>The revision of the last change handed out (or listed).</summary>
    internal long Revision => _revision;

    /// <summary>The next event; waits (reconnecting as needed) until there is one or the token fires.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async ValueTask<DiscoveryEvent> NextAsync(CancellationToken cancellationToken)
    {
        while (_pending.Count == 0)
        {
            try
            {
                if (!_listed)
                {
                    await ListAsync(compactRevision: 0, cancellationToken);
                    continue;
                }

                _call ??= await OpenAsync(cancellationToken);
                if (!await _call.ResponseStream.MoveNext(cancellationToken))
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the watch stream"));
                }

                await ApplyAsync(_call.ResponseStream.Current, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Broken(ex);
                CloseCall();
                await Task.Delay(_backoff.Next(), cancellationToken);
            }
        }

        return _pending.Dequeue();
    }

    public void Dispose()
    {
        CloseCall();
        _provider.SetWatchProblem(_id, null);
    }

    private async Task<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>> OpenAsync(CancellationToken cancellationToken)
    {
        var call = _provider.Connection.Watch.Watch(RequireLeader, cancellationToken: cancellationToken);
        try
        {
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = ByteString.CopyFromUtf8(_prefix),
                    RangeEnd = ByteString.CopyFrom(EtcdKeyLayout.RangeEnd(_prefix)),
                    StartRevision = _revision + 1,
                },
            }, cancellationToken);
        }
        catch
        {
            call.Dispose();
            throw;
        }

        return call;
    }

    private async Task ApplyAsync(WatchResponse response, CancellationToken cancellationToken)
    {
        if (response.CompactRevision > 0)
        {
            // The revision to resume from is gone from etcd's history: only a fresh listing can say what changed.
            CloseCall();
            await ListAsync(response.CompactRevision, cancellationToken);
            return;
        }

        if (response.Canceled)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"etcd cancelled the watch ({(string.IsNullOrEmpty(response.CancelReason) ? "no reason given" : response.CancelReason)})"));
        }

        if (response.Header is { } header && _clusterId != 0 && header.ClusterId != _clusterId)
        {
            // Another cluster (etcd recreated): its revisions are not a continuation of the ones seen.
            CloseCall();
            await ListAsync(compactRevision: -1, cancellationToken);
            return;
        }

        if (response.Created)
        {
            _backoff.Reset();
            if (_broken)
            {
                _broken = false;
                EtcdLog.WatchResumed(_provider.Logger, _endpoint.ToString(), _revision + 1);
                _provider.SetWatchProblem(_id, null);
            }
        }

        foreach (var change in response.Events)
        {
            var key = change.Kv.Key.ToStringUtf8();
            var now = change.Type == Event.Types.EventType.Put ? _provider.Parse(key, change.Kv.Value.Memory, _endpoint) : null;

            // A key whose value is not an instance counts as absent, so a broken write removes rather than lingers.
            if (now is null)
            {
                if (_known.Remove(key, out var gone))
                {
                    _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Removed, gone));
                }
            }
            else if (!_known.TryGetValue(key, out var before))
            {
                _known[key] = now;
                _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Added, now));
            }
            else if (!before.Equals(now))
            {
                _known[key] = now;
                _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Updated, now));
            }

            // Events of one revision arrive in one response, so resuming after the last one's revision misses nothing.
            _revision = Math.Max(_revision, change.Kv.ModRevision);
        }
    }

    /// <summary>Lists the endpoint and queues the difference to what was handed out; retried until it succeeds.</summary>
    /// <param name="compactRevision">The compacted revision that made this necessary, -1 for another cluster, 0 for the first listing.</param>
    private async Task ListAsync(long compactRevision, CancellationToken cancellationToken)
    {
        var listing = await _provider.RangeAsync(_prefix, _endpoint, cancellationToken);
        int added = 0, removed = 0, updated = 0;
        foreach (var (key, before) in _known.OrderBy(p => p.Value.Id.Value).ToList())
        {
            if (!listing.Instances.ContainsKey(key))
            {
                _known.Remove(key);
                _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Removed, before));
                removed++;
            }
        }

        foreach (var (key, now) in listing.Instances.OrderBy(p => p.Value.Id.Value))
        {
            if (!_known.TryGetValue(key, out var before))
            {
                _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Added, now));
                added++;
            }
            else if (!before.Equals(now))
            {
                _pending.Enqueue(new DiscoveryEvent(DiscoveryEventKind.Updated, now));
                updated++;
            }

            _known[key] = now;
        }

        var next = _revision + 1;
        _revision = listing.Revision;
        _clusterId = listing.ClusterId;
        _listed = true;
        if (compactRevision > 0)
        {
            EtcdLog.WatchCompacted(_provider.Logger, _endpoint.ToString(), next, compactRevision, listing.Revision, added, removed, updated);
        }

        if (_broken)
        {
            // A listing that succeeds is etcd answering again; the watch itself follows from the listed revision.
            _broken = false;
            EtcdLog.WatchResumed(_provider.Logger, _endpoint.ToString(), _revision + 1);
            _provider.SetWatchProblem(_id, null);
        }
    }

    private void Broken(Exception exception)
    {
        var problem = _provider.Connection.Describe(exception);
        if (!_broken)
        {
            _broken = true;
            EtcdLog.WatchBroken(_provider.Logger, _endpoint.ToString(), _revision, problem, _revision + 1);
        }

        _provider.SetWatchProblem(_id, $"the watch of {_endpoint} is disconnected: {problem}");
    }

    private void CloseCall()
    {
        _call?.Dispose();
        _call = null;
    }
}
