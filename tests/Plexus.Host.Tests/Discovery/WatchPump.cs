using System.Threading.Channels;

namespace Plexus.Host.Tests.Discovery;

/// <summary>
/// Drains a watch into a queue so tests can wait for each event with a bound. The first MoveNextAsync runs in the
/// constructor: both providers take their snapshot synchronously there, so a change made after construction is
/// always reported as a change, never folded into the snapshot.
/// </summary>
internal sealed class WatchPump : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly CancellationTokenSource _cts = new();
    private readonly Channel<DiscoveryEvent> _events = Channel.CreateUnbounded<DiscoveryEvent>();
    private readonly IAsyncEnumerator<DiscoveryEvent> _enumerator;

    public WatchPump(IDiscoveryProvider provider, EndpointAddress endpoint)
    {
        _enumerator = provider.WatchAsync(endpoint, _cts.Token).GetAsyncEnumerator(_cts.Token);
        Completion = PumpAsync(_enumerator.MoveNextAsync());
    }

    /// <summary>Completes when the watch ends; faults if it threw.</summary>
    public Task Completion { get; }

    public async Task<DiscoveryEvent> NextAsync(TimeSpan? timeout = null)
    {
        var wait = timeout ?? DefaultTimeout;
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _events.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No discovery event within {wait}.");
        }
    }

    public async Task<List<DiscoveryEvent>> NextAsync(int count, TimeSpan? timeout = null)
    {
        var result = new List<DiscoveryEvent>();
        for (var i = 0; i < count; i++)
        {
            result.Add(await NextAsync(timeout));
        }

        return result;
    }

    /// <summary>Whatever has arrived so far, without waiting.</summary>
    public List<DiscoveryEvent> Drain()
    {
        var result = new List<DiscoveryEvent>();
        while (_events.Reader.TryRead(out var e))
        {
            result.Add(e);
        }

        return result;
    }

    public void Cancel() => _cts.Cancel();

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // The test has already passed or failed on its own assertions.
        }

        _cts.Dispose();
    }

    private async Task PumpAsync(ValueTask<bool> first)
    {
        try
        {
            var more = await first;
            while (more)
            {
                _events.Writer.TryWrite(_enumerator.Current);
                more = await _enumerator.MoveNextAsync();
            }

            _events.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _events.Writer.TryComplete(ex);
            throw;
        }
        finally
        {
            await _enumerator.DisposeAsync();
        }
    }
}
