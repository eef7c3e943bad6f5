using System.Diagnostics.Metrics;

namespace Plexus.Router.Affinity;

/// <summary>
/// The meter <c>Plexus.Routing</c>: decisions by strategy and reason, and the prefix index's size. Its name starts with
/// <c>Plexus</c>, so the host's <c>/metrics</c> exports it with the request plane's (as <c>plexus_router_decisions_total</c>
/// and <c>plexus_router_prefix_index_blocks</c>).
/// </summary>
internal sealed class RoutingMetrics
{
    public const string MeterName = "Plexus.Routing";

    private readonly Counter<long> _decisions;
    private long _indexBlocks;
    private long _indexInstances;

    public RoutingMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _decisions = meter.CreateCounter<long>("plexus.router.decisions", "{decision}", "Routing decisions, by strategy and reason: hit, skip (bounded load), miss (no instance holds the prefix), fallback (no key).");
        meter.CreateObservableGauge("plexus.router.prefix.index_blocks", () => Volatile.Read(ref _indexBlocks), "{block}", "Distinct block hashes in the prefix index, over every endpoint.");
        meter.CreateObservableGauge("plexus.router.prefix.index_instances", () => Volatile.Read(ref _indexInstances), "{instance}", "Instances with at least one block in the prefix index.");
    }

    /// <summary>Distinct blocks in the index now.</summary>
    public long IndexBlocks => Volatile.Read(ref _indexBlocks);

    /// <summary>Counts one decision; no allocation while nothing listens, and strings only as tag values.</summary>
    public void Decided(string strategy, string reason) =>
        _decisions.Add(1, new KeyValuePair<string, object?>("strategy", strategy), new KeyValuePair<string, object?>("reason", reason));

    public void IndexChanged(long blocks, long instances)
    {
        Interlocked.Add(ref _indexBlocks, blocks);
        Interlocked.Add(ref _indexInstances, instances);
    }
}
