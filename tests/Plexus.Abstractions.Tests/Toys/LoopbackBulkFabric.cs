using System.Collections.Concurrent;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>What the "network" of the loopback bulk transport is: regions registered by any endpoint, by key.</summary>
internal sealed class LoopbackBulkFabric
{
    private long _nextKey;

    public ConcurrentDictionary<long, LoopbackBulkRegion> Regions { get; } = new();

    public long NextKey() => Interlocked.Increment(ref _nextKey);
}
