using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// Listens to every meter whose name starts with <c>Plexus</c> (the request plane's and the transports') and keeps
/// the aggregates that <c>/metrics</c> writes in the Prometheus text format. Meters made by another host's
/// <see cref="IMeterFactory"/> in the same process are left out, so that two nodes in one process (as in tests)
/// do not count each other's requests.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    /// <summary>Bucket bounds for durations in seconds: 100 µs to 30 s.</summary>
    private static readonly double[] SecondsBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Bucket bounds for sizes and counts: powers of four.</summary>
    private static readonly double[] SizeBounds = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    [ThreadStatic]
    private static KeyValuePair<string, string>[]? t_scratch;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<MetricKey, MetricSeries> _series = new();

    public MetricsCollector(IMeterFactory? meters = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            var scope = instrument.Meter.Scope;
            if (instrument.Meter.Name.StartsWith("Plexus", StringComparison.Ordinal) && (scope is null || meters is null || ReferenceEquals(scope, meters)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var scratch = t_scratch ??= MetricKey.NewScratch();
        var key = MetricKey.ForLookup(instrument, tags, scratch, out var count);
        if (!_series.TryGetValue(key, out var series))
        {
            series = _series.GetOrAdd(key.Persist(count), static (k, self) => self.CreateSeries((Instrument)k.Instrument), this);
        }

        series.Record(value);
    }

    private MetricSeries CreateSeries(Instrument instrument) => instrument switch
    {
        Histogram<double> or Histogram<long> or Histogram<int> => new MetricSeries.Histogram(instrument.Unit == "s" ? SecondsBounds : SizeBounds),
        Counter<long> or Counter<int> or Counter<double> or UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => new MetricSeries.Sum(),
        _ => new MetricSeries.Last(),
    };

    /// <summary>Writes every series in the Prometheus text exposition format (version 0.0.4).</summary>
    public void WriteTo(TextWriter output)
    {
        _listener.RecordObservableInstruments();
        var byInstrument = new Dictionary<Instrument, List<(MetricKey Key, MetricSeries Series)>>();
        foreach (var (key, series) in _series)
        {
            var instrument = (Instrument)key.Instrument;
            if (!byInstrument.TryGetValue(instrument, out var list))
            {
                byInstrument[instrument] = list = [];
            }

            list.Add((key, series));
        }

        var instruments = new List<Instrument>(byInstrument.Keys);
        instruments.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var instrument in instruments)
        {
            WriteInstrument(output, instrument, byInstrument[instrument]);
        }
    }

    private static void WriteInstrument(TextWriter output, Instrument instrument, List<(MetricKey Key, MetricSeries Series)> series)
    {
        var (name, type) = PrometheusNames.For(instrument);
        if (!string.IsNullOrEmpty(instrument.Description))
        {
            output.Write("# HELP ");
            output.Write(name);
            output.Write(' ');
            output.Write(PrometheusNames.EscapeHelp(instrument.Description));
            output.Write('\n');
        }

        output.Write("# TYPE ");
        output.Write(name);
        output.Write(' ');
        output.Write(type);
        output.Write('\n');
        foreach (var (key, aggregate) in series)
        {
            switch (aggregate)
            {
                case MetricSeries.Histogram histogram:
                    var (counts, sum, count) = histogram.Snapshot();
                    long cumulative = 0;
                    for (var i = 0; i < histogram.Bounds.Length; i++)
                    {
                        cumulative += counts[i];
                        WriteSample(output, name + "_bucket", key, ("le", Format(histogram.Bounds[i])), cumulative);
                    }

                    WriteSample(output, name + "_bucket", key, ("le", "+Inf"), count);
                    WriteSample(output, name + "_sum", key, null, sum);
                    WriteSample(output, name + "_count", key, null, count);
                    break;
                case MetricSeries.Sum sumSeries:
                    WriteSample(output, name, key, null, sumSeries.Value);
                    break;
                case MetricSeries.Last last:
                    WriteSample(output, name, key, null, last.Value);
                    break;
            }
        }
    }

    private static void WriteSample(TextWriter output, string name, MetricKey key, (string Name, string Value)? extra, double value)
    {
        output.Write(name);
        var tags = key.Tags;
        if (tags.Length > 0 || extra is not null)
        {
            output.Write('{');
            var first = true;
            foreach (var (label, labelValue) in tags)
            {
                if (label is null)
                {
                    break;
                }

                WriteLabel(output, ref first, PrometheusNames.Sanitize(label), labelValue);
            }

            if (extra is var (extraName, extraValue))
            {
                WriteLabel(output, ref first, extraName, extraValue);
            }

            output.Write('}');
        }

        output.Write(' ');
        output.Write(Format(value));
        output.Write('\n');
    }

    private static void WriteLabel(TextWriter output, ref bool first, string name, string value)
    {
        if (!first)
        {
            output.Write(',');
        }

        first = false;
        output.Write(name);
        output.Write("=\"");
        output.Write(PrometheusNames.EscapeLabelValue(value));
        output.Write('"');
    }

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public void Dispose() => _listener.Dispose();
}
