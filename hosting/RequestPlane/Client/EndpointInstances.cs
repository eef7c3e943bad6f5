using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.RequestPlane.Client;

/// <summary>
/// The live instances of one endpoint, kept current by a discovery watch. Readers take <see cref="Snapshot"/>,
/// an array replaced whole on every change, so routing never locks.
/// </summary>
internal sealed class EndpointInstances : IAsyncDisposable
{
    private readonly EndpointAddress _endpoint;
    private readonly IDiscoveryProvider _discovery;
    private readonly ILogger _logger;
    private readonly Func<Instance, Instance?> _route;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _change = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Completes with the number of instances discovery listed, the first time it answers.
    private readonly TaskCompletionSource<int> _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _problem;
    private InstanceState[] _snapshot = [];
    private Task? _watch;

    /// <param name="endpoint">The endpoint.</param>
    /// <param name="discovery">Where its instances are found.</param>
    /// <param name="logger">The client's logger.</param>
    /// <param name="route">The client's choice of one address per instance (<see cref="InstanceState.Routed"/>).</param>
    public EndpointInstances(EndpointAddress endpoint, IDiscoveryProvider discovery, ILogger logger, Func<Instance, Instance?> route)
    {
        _route = route;
        _endpoint = endpoint;
        _discovery = discovery;
        _logger = logger;
        Name = endpoint.ToString();
    }

    public InstanceState[] Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>The endpoint as text, made once: it labels every request's metrics and spans.</summary>
    public string Name { get; }

    public void Start() => _watch ??= Task.Run(WatchAsync);

    /// <summary>Whether discovery has answered about this endpoint yet: its list came back, or its watch delivered an instance.</summary>
    public bool HasAnswered => _answered.Task.IsCompleted;

    /// <summary>How many instances discovery listed in its first answer; null until it answered.</summary>
    public int? Listed => _answered.Task.IsCompletedSuccessfully ? _answered.Task.Result : null;

    /// <summary>Why discovery last failed to answer (its list or its watch threw), or null.</summary>
    public string? Problem => Volatile.Read(ref _problem);

    /// <summary>
    /// Waits until at least one instance is known. Two waits, because "discovery is slow" and "discovery has none" are
    /// different answers: first until discovery answers at all (bounded by <paramref name="answerWait"/> and by
    /// <paramref name="cancellationToken"/>, which carries the call's own timeout), then, when it answered with no
    /// instance, <paramref name="appearWait"/> more for one to appear.
    /// </summary>
    /// <returns>Whether an instance is known; when not, <see cref="HasAnswered"/> says which wait ran out.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async ValueTask<bool> WaitForInstancesAsync(TimeSpan answerWait, TimeSpan appearWait, CancellationToken cancellationToken)
    {
        if (Snapshot.Length > 0)
        {
            return true;
        }

        var started = Stopwatch.GetTimestamp();
        if (!HasAnswered && !await WaitAsync(answerWait, waitForAnswer: true, cancellationToken))
        {
            return false;
        }

        if (Snapshot.Length > 0)
        {
            return true;
        }

        // Listed some: the watch is about to deliver them, as slowly as the list came on a busy machine, so they get
        // what is left of the answer's wait. Listed none: one may still appear, within the shorter wait.
        var wait = appearWait;
        if (Listed > 0 && answerWait != Timeout.InfiniteTimeSpan)
        {
            var left = answerWait - Stopwatch.GetElapsedTime(started);
            wait = left > appearWait ? left : appearWait;
        }
        else if (Listed > 0)
        {
            wait = Timeout.InfiniteTimeSpan;
        }

        return await WaitAsync(wait, waitForAnswer: false, cancellationToken);
    }

    /// <summary>Waits for an instance (or, with <paramref name="waitForAnswer"/>, for discovery's answer); false when <paramref name="wait"/> ran out first.</summary>
    private async ValueTask<bool> WaitAsync(TimeSpan wait, bool waitForAnswer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (wait != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(wait);
        }

        try
        {
            while (Snapshot.Length == 0 && !(waitForAnswer && HasAnswered))
            {
                Task change;
                lock (_gate)
                {
                    change = _change.Task;
                }

                if (Snapshot.Length > 0 || (waitForAnswer && HasAnswered))
                {
                    break;
                }

                await (waitForAnswer ? Task.WhenAny(change, _answered.Task) : change).WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // This wait ran out; the caller reports which one.
            return Snapshot.Length > 0;
        }

        return true;
    }

    private async Task WatchAsync()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!HasAnswered)
                {
                    // The list is discovery's answer to "are there any?"; the watch alone cannot say when its snapshot is
                    // complete, so without it an empty snapshot could not be told apart from one still on its way.
                    var listed = await _discovery.ListAsync(_endpoint, _stop.Token);
                    _answered.TrySetResult(listed.Count);
                }

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
                Volatile.Write(ref _problem, ex.Message);
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
                    grown[^1] = new InstanceState(change.Instance, _route);
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

        if (change.Kind != DiscoveryEventKind.Removed)
        {
            // An instance delivered is an answer too, even before the list came back.
            _answered.TrySetResult(Snapshot.Length);
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
