using System.Threading.Channels;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// This node's presence in etcd: one lease for every instance the process registers, kept alive by a background loop,
/// and every registered instance written under it. Callers change what should be published (register, update,
/// unregister) under a lock; the loop alone talks to etcd for them, in order, so that a delete never overtakes the put
/// it undoes. The loop grants the lease, writes what changed, keeps the lease alive every third of its time to live and,
/// when etcd cannot be reached, retries with backoff, keeping everything to publish it when etcd answers. A lease that
/// expired meanwhile (or was revoked) is noticed and replaced, and every instance is written again under the new one.
/// </summary>
internal sealed partial class EtcdSession : IAsyncDisposable
{
    private readonly EtcdConnection _connection;
    private readonly EtcdDiscoveryOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, EtcdRegistration> _registrations = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingDeletes = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private long _leaseId;
    private long _changes;
    private long _flushed;
    private string? _problem;
    private DateTime _outageSince;

    // Until when etcd last said the lease lives (UTC): its last grant or renewal plus the time to live it answered.
    // Only the loop reads and writes it.
    private DateTime _aliveUntil;
    private bool _disposed;

    public EtcdSession(EtcdConnection connection, EtcdDiscoveryOptions options, ILogger logger)
    {
        _connection = connection;
        _options = options;
        _logger = logger;
    }

    /// <summary>Why registrations cannot be published now, or null while they are.</summary>
    public string? Problem => Volatile.Read(ref _problem);

    /// <summary>The current etcd lease, or 0 while there is none.</summary>
    public long LeaseId => Interlocked.Read(ref _leaseId);

    /// <summary>The lease's time to live in whole seconds.</summary>
    public long TtlSeconds => _options.LeaseTtlSeconds;

    /// <summary>Adds a registration (replacing one of the same key) and waits, within bounds, until it is written.</summary>
    public async ValueTask<EtcdRegistration> RegisterAsync(string key, Instance instance, CancellationToken cancellationToken)
    {
        var registration = new EtcdRegistration(key, instance);
        long change;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_registrations.TryGetValue(key, out var earlier))
            {
                earlier.Replaced = true;
                EtcdLog.ReplacedRegistration(_logger, instance.Endpoint.ToString(), instance.Id.ToString());
            }

            _registrations[key] = registration;
            _pendingDeletes.Remove(key);
            change = registration.Version = ++_changes;
            _loop ??= Task.Run(RunAsync, CancellationToken.None);
        }

        _wake.Writer.TryWrite(true);

        // Written already when etcd answers; when it does not, the node goes on starting and the loop publishes later.
        try
        {
            await WaitWrittenAsync(change, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The caller gets no lease to dispose, so nothing may stay published for it; the loop deletes it.
            await UnregisterAsync(registration, wait: false);
            throw;
        }

        return registration;
    }

    /// <summary>Publishes new metadata on the same key and lease.</summary>
    /// <exception cref="PlexusException">Not written now (etcd unreachable); it is kept and written when etcd answers.</exception>
    public async ValueTask UpdateAsync(EtcdRegistration registration, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        long change;
        lock (_gate)
        {
            ThrowIfGone(registration);
            registration.Instance = registration.Instance with { Metadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal) };
            change = registration.Version = ++_changes;
        }

        _wake.Writer.TryWrite(true);
        if (!await WaitWrittenAsync(change, cancellationToken))
        {
            throw PlexusException.Unavailable(
                $"The new metadata of {registration.Instance.Endpoint} instance {registration.Instance.Id} is not in etcd yet: {Problem ?? "etcd did not answer in time"}. It is kept and written when etcd answers.");
        }
    }

    /// <summary>The instance a registration publishes now.</summary>
    public Instance Current(EtcdRegistration registration)
    {
        lock (_gate)
        {
            return registration.Instance;
        }
    }

    /// <summary>Checks that a registration is still this process's registration of its instance.</summary>
    public void EnsureHeld(EtcdRegistration registration)
    {
        lock (_gate)
        {
            ThrowIfGone(registration);
        }
    }

    /// <summary>Removes a registration: deletes its key (if this lease still owns it) and waits, within bounds, for that.</summary>
    /// <param name="registration">The registration.</param>
    /// <param name="wait">Whether to wait for the delete while etcd answers.</param>
    public async ValueTask UnregisterAsync(EtcdRegistration registration, bool wait = true)
    {
        long change;
        lock (_gate)
        {
            if (registration.Disposed)
            {
                return;
            }

            registration.Disposed = true;
            if (registration.Replaced || !_registrations.Remove(registration.Key))
            {
                // A newer registration of the same instance owns the key now.
                return;
            }

            _pendingDeletes.Add(registration.Key);
            change = ++_changes;
        }

        _wake.Writer.TryWrite(true);
        if (wait)
        {
            await WaitWrittenAsync(change, CancellationToken.None);
        }
    }

    /// <summary>Stops the loop and revokes the lease, which removes whatever is still registered at once.</summary>
    public async ValueTask DisposeAsync()
    {
        int left;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            left = _registrations.Count + _pendingDeletes.Count;
        }

        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var lease = LeaseId;
        if (lease != 0)
        {
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromTicks(Math.Min(_connection.RequestTimeout.Ticks, TimeSpan.FromSeconds(2).Ticks));
                await _connection.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: deadline);
                EtcdLog.LeaseRevoked(_logger, lease);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or HttpRequestException)
            {
                if (left > 0)
                {
                    EtcdLog.UnregisterPending(_logger, left, _connection.Describe(ex), lease, TtlSeconds);
                }
            }
        }

        _stop.Dispose();
    }

    private static void ThrowIfGone(EtcdRegistration registration)
    {
        ObjectDisposedException.ThrowIf(registration.Disposed, registration);
        if (registration.Replaced)
        {
            throw PlexusException.Unavailable(
                $"The discovery registration of {registration.Instance.Endpoint} instance {registration.Instance.Id} was replaced by a later registration of the same instance id in this process; register the instance again.");
        }
    }

    /// <summary>Waits until change <paramref name="change"/> is written; false when etcd is unreachable or too slow.</summary>
    private async ValueTask<bool> WaitWrittenAsync(long change, CancellationToken cancellationToken)
    {
        // Long enough for a first connection and a write; an etcd that is down is declared unreachable sooner.
        var giveUp = DateTime.UtcNow + (2 * _connection.RequestTimeout);
        while (true)
        {
            Task progress;
            lock (_gate)
            {
                if (_flushed >= change)
                {
                    return true;
                }

                if (_problem is not null || _disposed)
                {
                    return false;
                }

                progress = _progress.Task;
            }

            var left = giveUp - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await progress.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private void Pulse()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            done = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }

    /// <summary>The lease is gone: its keys went with it.</summary>
    private sealed class LeaseGoneException(long leaseId, string reason) : Exception(reason)
    {
        public long LeaseId { get; } = leaseId;

        public string Reason { get; } = reason;
    }
}
