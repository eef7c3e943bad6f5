using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Plexus.Hosting.Telemetry;

namespace Plexus.Host.Tests.Telemetry;

public sealed class MetricsCollectorTests
{
    private static string Scrape(MetricsCollector collector)
    {
        using var writer = new StringWriter();
        collector.WriteTo(writer);
        return writer.ToString();
    }

    [Fact]
    public void Counters_gauges_and_histograms_are_exposed_with_types_units_and_labels()
    {
        using var collector = new MetricsCollector();
        using var meter = new Meter("Plexus.Test." + Guid.NewGuid().ToString("N"));
        var requests = meter.CreateCounter<long>("plexus.test.requests", "{request}", "Requests.");
        var inFlight = meter.CreateUpDownCounter<long>("plexus.test.in_flight");
        var duration = meter.CreateHistogram<double>("plexus.test.duration", "s", "Durations.");
        var bytes = meter.CreateCounter<long>("plexus.test.sent", "By");
        meter.CreateObservableGauge("plexus.test.plugins", () => new Measurement<int>(3, new KeyValuePair<string, object?>("status", "loaded")));

        requests.Add(2, new KeyValuePair<string, object?>("endpoint", "a/b/c"));
        requests.Add(3, new KeyValuePair<string, object?>("endpoint", "a/b/c"));
        requests.Add(7, new KeyValuePair<string, object?>("endpoint", "x/y/z"));
        inFlight.Add(5);
        inFlight.Add(-2);
        duration.Record(0.0003);
        duration.Record(0.002);
        duration.Record(99);
        bytes.Add(64);

        var families = PrometheusTextParser.Parse(Scrape(collector));

        var counter = families["plexus_test_requests_total"];
        Assert.Equal("counter", counter.Type);
        Assert.Equal("Requests.", counter.Help);
        Assert.Equal(5, counter.Samples.Single(s => s.Labels["endpoint"] == "a/b/c").Value);
        Assert.Equal(7, counter.Samples.Single(s => s.Labels["endpoint"] == "x/y/z").Value);
        Assert.Equal("gauge", families["plexus_test_in_flight"].Type);
        Assert.Equal(3, Assert.Single(families["plexus_test_in_flight"].Samples).Value);
        Assert.Equal(64, Assert.Single(families["plexus_test_sent_bytes_total"].Samples).Value);
        var plugins = Assert.Single(families["plexus_test_plugins"].Samples);
        Assert.Equal(3, plugins.Value);
        Assert.Equal("loaded", plugins.Labels["status"]);

        var histogram = families["plexus_test_duration_seconds"];
        Assert.Equal("histogram", histogram.Type);
        var buckets = histogram.Samples.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
        Assert.Equal("+Inf", buckets[^1].Labels["le"]);
        Assert.Equal(3, buckets[^1].Value);
        for (var i = 1; i < buckets.Count; i++)
        {
            Assert.True(buckets[i].Value >= buckets[i - 1].Value, "buckets are cumulative");
        }

        Assert.Equal(1, buckets.Single(b => b.Labels["le"] == "0.0005").Value);
        Assert.Equal(2, buckets.Single(b => b.Labels["le"] == "0.0025").Value);
        Assert.Equal(2, buckets.Single(b => b.Labels["le"] == "30").Value);
        Assert.Equal(3, histogram.Samples.Single(s => s.Name.EndsWith("_count", StringComparison.Ordinal)).Value);
        Assert.Equal(99.0023, histogram.Samples.Single(s => s.Name.EndsWith("_sum", StringComparison.Ordinal)).Value, 6);
    }

    [Fact]
    public void Label_values_are_escaped_and_read_back_unchanged()
    {
        using var collector = new MetricsCollector();
        using var meter = new Meter("Plexus.Test." + Guid.NewGuid().ToString("N"));
        var counter = meter.CreateCounter<long>("plexus.test.escaped");
        const string nasty = "quote\" backslash\\ newline\n end";

        counter.Add(1, new KeyValuePair<string, object?>("value", nasty), new KeyValuePair<string, object?>("bad-label.name", "x"));

        var text = Scrape(collector);
        var sample = Assert.Single(PrometheusTextParser.Parse(text)["plexus_test_escaped_total"].Samples);
        Assert.Equal(nasty, sample.Labels["value"]);
        Assert.Equal("x", sample.Labels["bad_label_name"]);
    }

    [Fact]
    public void Only_plexus_meters_are_collected()
    {
        using var collector = new MetricsCollector();
        using var meter = new Meter("Other.Library");
        meter.CreateCounter<long>("other.requests").Add(1);

        Assert.DoesNotContain("other_requests", Scrape(collector), StringComparison.Ordinal);
    }

    [Fact]
    public void Recording_a_measurement_for_an_existing_series_does_not_allocate()
    {
        using var collector = new MetricsCollector();
        using var meter = new Meter("Plexus.Test." + Guid.NewGuid().ToString("N"));
        var counter = meter.CreateCounter<long>("plexus.test.hot");
        var tags = new TagList { { "endpoint", "a/b/c" }, { "transport", "tcp" }, { "side", "client" } };
        counter.Add(1, tags);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            counter.Add(1, tags);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

public sealed class MetricsCollectorScopeTests
{
    [Fact]
    public void Meters_of_another_hosts_factory_are_left_out()
    {
        using var mine = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var theirs = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var myFactory = mine.GetRequiredService<IMeterFactory>();
        var theirFactory = theirs.GetRequiredService<IMeterFactory>();
        using var collector = new MetricsCollector(myFactory);

        myFactory.Create("Plexus.Scoped").CreateCounter<long>("plexus.scoped.mine").Add(1);
        theirFactory.Create("Plexus.Scoped").CreateCounter<long>("plexus.scoped.theirs").Add(1);

        using var writer = new StringWriter();
        collector.WriteTo(writer);
        Assert.Contains("plexus_scoped_mine_total 1", writer.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("plexus_scoped_theirs", writer.ToString(), StringComparison.Ordinal);
    }
}
