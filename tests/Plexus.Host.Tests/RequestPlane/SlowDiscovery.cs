using System.Runtime.CompilerServices;
using Plexus.Hosting.Discovery;

namespace Plexus.Host.Tests.RequestPlane;

/// <summary>
/// In-process discovery that takes <c>answerAfter</c> to answer anything, as discovery does on a machine too busy to
/// schedule it: both its list and its watch's first events come late. <see cref="Timeout.InfiniteTimeSpan"/> never answers.
/// </summary>
internal sealed class SlowDiscovery(TimeSpan answerAfter, string name = "slow") : IDiscoveryProvider
{
    private readonly InMemoryDiscoveryProvider _inner = new(TimeProvider.System);

    public string Name => name;

    public ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken) =>
        _inner.RegisterAsync(instance, timeToLive, cancellationToken);

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(EndpointAddress endpoint, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(answerAfter, cancellationToken);
        await foreach (var change in _inner.WatchAsync(endpoint, cancellationToken))
        {
            yield return change;
        }
    }

    public async ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        await Task.Delay(answerAfter, cancellationToken);
        return await _inner.ListAsync(endpoint, cancellationToken);
    }
}
