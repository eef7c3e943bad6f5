using Microsoft.Extensions.Logging;

namespace Plexus.Host.RequestPlane.Client;

/// <summary>
/// The live instances of one endpoint, kept current by a discovery watch. Readers take <see cref="Snapshot"/>,
/// an array replaced whole on every change, so routing never locks.
/// </summary>
internal sealed class EndpointInstances : IAsyncDisposable
{
    private readonly EndpointAddress _endpoint;
    private readonly IDiscoveryProvider _discovery;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _change = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private InstanceState[] _snapshot = [];
    private Task? _watch;

    public EndpointInstances(EndpointAddress endpoint, IDiscoveryProvider discovery, ILogger logger)
    {
        _endpoint = endpoint;
        _discovery = discovery;
        _logger = logger;
        Name = endpoint.ToString();
    }

    public InstanceState[] Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>The endpoint as text, made once: it labels every request's metrics and spans.</summary>
    public string Name { get; }

    public void Start() => _watch ??= Task.Run(WatchAsync);

    /// <summary>Waits until at least one instance is known, or the wait ends.</summary>
    public async ValueTask<bool> WaitForInstancesAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (Snapshot.Length > 0)
        {
            return true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            while (Snapshot.Length == 0)
            {
                Task change;
                lock (_gate)
                {
                    change = _change.Task;
                }

                if (Snapshot.Length > 0)
                {
                    break;
                }

                await change.WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The wait ran out; the caller reports the endpoint as unavailable.
        }

        return Snapshot.Length > 0;
    }

    private async Task WatchAsync()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in _discovery.WatchAsync(_endpoint, _stop.Token))
                {
                    Apply(change);
                    delay = TimeSpan.FromMilliseconds(100);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(new EventId(1201, "DiscoveryWatchFailed"), ex, "Watching {Endpoint} in discovery '{Provider}' failed; retrying in {Delay}.", _endpoint, _discovery.Name, delay);
            }

            try
            {
                await Task.Delay(delay, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    internal void Apply(DiscoveryEvent change)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            var current = _snapshot;
            var index = -1;
            for (var i = 0; i < current.Length; i++)
            {
                if (current[i].Instance.Id == change.Instance.Id)
                {
                    index = i;
                    break;
                }
            }

            switch (change.Kind)
            {
                case DiscoveryEventKind.Added or DiscoveryEventKind.Updated when index >= 0:
                    // Keep the state object: its in-flight count and health belong to the same instance.
                    current[index].Instance = change.Instance;
                    break;
                case DiscoveryEventKind.Added or DiscoveryEventKind.Updated:
                    var grown = new InstanceState[current.Length + 1];
                    Array.Copy(current, grown, current.Length);
                    grown[^1] = new InstanceState(change.Instance);
                    Volatile.Write(ref _snapshot, grown);
                    break;
                case DiscoveryEventKind.Removed when index >= 0:
                    var shrunk = new InstanceState[current.Length - 1];
                    Array.Copy(current, 0, shrunk, 0, index);
                    Array.Copy(current, index + 1, shrunk, index, current.Length - index - 1);
                    Volatile.Write(ref _snapshot, shrunk);
                    break;
                default:
                    break;
            }

            signal = _change;
            _change = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watch is not null)
        {
            await _watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
    }
}
