using System.Diagnostics.Metrics;

namespace Plexus.Router.Affinity.Tests.Support;

/// <summary>
/// A <see cref="RoutingMetrics"/> of its own with a listener on it alone (by the meter's scope), so that tests running
/// in parallel do not count each other's decisions.
/// </summary>
internal sealed class DecisionProbe : IDisposable
{
    private readonly Routers.TestMeterFactory _factory = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _decisions = [];
    private long _indexBlocks;

    public DecisionProbe()
    {
        Metrics = new RoutingMetrics(_factory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, _factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "plexus.router.prefix.index_blocks")
            {
                _indexBlocks = value;
                return;
            }

            if (instrument.Name != "plexus.router.decisions")
            {
                return;
            }

            string? strategy = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "strategy")
                {
                    strategy = tag.Value as string;
                }
                else if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }

            lock (_decisions)
            {
                var key = $"{strategy}/{reason}";
                _decisions[key] = _decisions.GetValueOrDefault(key) + value;
            }
        });
        _listener.Start();
    }

    public RoutingMetrics Metrics { get; }

    /// <summary>Decisions counted as <c>strategy/reason</c>.</summary>
    public long Of(string strategyAndReason)
    {
        lock (_decisions)
        {
            return _decisions.GetValueOrDefault(strategyAndReason);
        }
    }

    /// <summary>The index-size gauge as an exporter would read it now.</summary>
    public long IndexBlocks()
    {
        _listener.RecordObservableInstruments();
        return _indexBlocks;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _factory.Dispose();
    }
}
