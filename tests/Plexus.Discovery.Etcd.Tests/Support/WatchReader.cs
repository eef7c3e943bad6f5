namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>Reads a discovery watch one event at a time with a bound on each wait, and ends it when disposed.</summary>
internal sealed class WatchReader : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly IAsyncEnumerator<DiscoveryEvent> _events;
    private Task<bool>? _next;

    public WatchReader(IDiscoveryProvider provider, EndpointAddress endpoint)
    {
        _events = provider.WatchAsync(endpoint, _stop.Token).GetAsyncEnumerator(_stop.Token);
    }

    /// <summary>Every event read so far.</summary>
    public List<DiscoveryEvent> Seen { get; } = [];

    /// <summary>The next event, within <paramref name="timeout"/>.</summary>
    public async Task<DiscoveryEvent> NextAsync(TimeSpan timeout)
    {
        _next ??= _events.MoveNextAsync().AsTask();
        var more = await _next.WaitAsync(timeout);
        _next = null;
        Assert.True(more, "the watch ended");
        Seen.Add(_events.Current);
        return _events.Current;
    }

    /// <summary>Asks for the next event without waiting for it, as a consumer that always reads does.</summary>
    public void KeepReading() => _next ??= _events.MoveNextAsync().AsTask();

    /// <summary>Whether an event arrives within <paramref name="wait"/> (it is kept for the next read).</summary>
    public async Task<bool> HasEventWithinAsync(TimeSpan wait)
    {
        _next ??= _events.MoveNextAsync().AsTask();
        return await Task.WhenAny(_next, Task.Delay(wait)) == _next;
    }

    /// <summary>Reads events until <paramref name="done"/> holds for the set they build from nothing.</summary>
    public async Task<Dictionary<InstanceId, Instance>> ReadUntilAsync(Dictionary<InstanceId, Instance> state, Func<Dictionary<InstanceId, Instance>, bool> done, TimeSpan timeout)
    {
        var giveUp = DateTime.UtcNow + timeout;
        while (!done(state))
        {
            var left = giveUp - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"the watch did not reach the expected state within {timeout}; events: {string.Join(", ", Seen.Select(e => $"{e.Kind} {e.Instance.Id}"))}");
            var change = await NextAsync(left);
            Apply(state, change);
        }

        return state;
    }

    /// <summary>Applies an event to a set of instances, failing on events that do not fit it (a duplicate or a gap).</summary>
    public static void Apply(Dictionary<InstanceId, Instance> state, DiscoveryEvent change)
    {
        switch (change.Kind)
        {
            case DiscoveryEventKind.Added:
                Assert.True(state.TryAdd(change.Instance.Id, change.Instance), $"Added {change.Instance.Id}, which was there already");
                break;
            case DiscoveryEventKind.Updated:
                Assert.True(state.ContainsKey(change.Instance.Id), $"Updated {change.Instance.Id}, which was not there");
                state[change.Instance.Id] = change.Instance;
                break;
            case DiscoveryEventKind.Removed:
                Assert.True(state.Remove(change.Instance.Id), $"Removed {change.Instance.Id}, which was not there");
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_next is not null)
        {
            await ((Task)_next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _events.DisposeAsync();
        _stop.Dispose();
    }
}
