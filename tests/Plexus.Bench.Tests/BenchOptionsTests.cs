using Plexus.Host.Cli;
namespace Plexus.Bench.Tests;

public sealed class BenchOptionsTests
{
    private static BenchOptions Parse(params string[] args) => BenchOptions.Parse(BenchArguments.Parse(args));

    [Fact]
    public void Defaults_measure_everything_against_both_baselines()
    {
        var options = Parse();

        Assert.Equal("tcp", options.Transport);
        Assert.Equal([BenchScenario.Unary, BenchScenario.Stream, BenchScenario.Bulk], options.Scenarios);
        Assert.Equal([1, 64], options.Concurrencies);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Warmup);
        Assert.Equal([BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], options.Baselines);
        Assert.False(options.Json);
    }

    [Fact]
    public void Every_option_is_read()
    {
        var options = Parse("--transport", "memory", "--scenario", "bulk,unary", "--concurrency", "8", "--duration", "500ms", "--warmup", "0", "--baseline", "kestrel-h2", "--json");

        Assert.Equal("memory", options.Transport);
        Assert.Equal([BenchScenario.Unary, BenchScenario.Bulk], options.Scenarios);
        Assert.Equal([8], options.Concurrencies);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Duration);
        Assert.Equal(TimeSpan.Zero, options.Warmup);
        Assert.Equal([BenchBaseline.KestrelH2], options.Baselines);
        Assert.True(options.Json);
    }

    [Fact]
    public void Lists_repeat_deduplicate_and_sort()
    {
        var options = Parse("--scenario", "stream", "--scenario", "unary,stream", "--concurrency", "64", "--concurrency", "1,64", "--baseline", "kestrel-h2", "--baseline", "all");

        Assert.Equal([BenchScenario.Unary, BenchScenario.Stream], options.Scenarios);
        Assert.Equal([1, 64], options.Concurrencies);
        Assert.Equal([BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], options.Baselines);
    }

    [Fact]
    public void Baseline_none_measures_the_transport_alone()
    {
        Assert.Empty(Parse("--baseline", "none").Baselines);
    }

    [Fact]
    public void The_nats_transport_is_measured_against_nats_raw_first_by_default_and_with_all()
    {
        Assert.Equal([BenchBaseline.NatsRaw, BenchBaseline.Tcp, BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", "nats").Baselines);
        Assert.Equal([BenchBaseline.NatsRaw, BenchBaseline.Tcp, BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", "NATS", "--baseline", "all").Baselines);
        Assert.Equal([BenchBaseline.NatsRaw], Parse("--transport", "nats", "--baseline", "nats-raw").Baselines);
    }

    [Theory]
    [InlineData("quic")]
    [InlineData("memory")]
    [InlineData("QUIC")]
    public void Another_transport_is_measured_against_the_tcp_transport_first_by_default_and_with_all(string transport)
    {
        Assert.Equal([BenchBaseline.Tcp, BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", transport).Baselines);
        Assert.Equal([BenchBaseline.Tcp, BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", transport, "--baseline", "all").Baselines);
    }

    [Fact]
    public void The_tcp_baseline_is_read_alone_in_any_case_and_sorted_into_table_order()
    {
        Assert.Equal([BenchBaseline.Tcp], Parse("--transport", "quic", "--baseline", "tcp").Baselines);
        Assert.Equal([BenchBaseline.Tcp], Parse("--transport", "quic", "--baseline", " TCP ").Baselines);
        Assert.Equal([BenchBaseline.Tcp, BenchBaseline.KestrelH2], Parse("--transport", "quic", "--baseline", "kestrel-h2,tcp", "--baseline", "tcp").Baselines);
        Assert.Equal([BenchBaseline.NatsRaw, BenchBaseline.Tcp, BenchBaseline.RawTcp], Parse("--transport", "memory", "--baseline", "raw-tcp,tcp,nats-raw").Baselines);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("TCP")]
    [InlineData(" tcp ")]
    public void The_tcp_transport_is_never_its_own_baseline(string transport)
    {
        // Left out of all and the default, refused when named.
        Assert.Equal([BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", transport).Baselines);
        Assert.Equal([BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", transport, "--baseline", "all").Baselines);

        var ex = Assert.Throws<UsageException>(() => Parse("--transport", transport, "--baseline", "raw-tcp,tcp"));
        Assert.Contains("--baseline tcp", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be its own baseline", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tcp_lowlatency_baseline_is_measured_only_when_named_and_beside_tcp_too()
    {
        Assert.Equal([BenchBaseline.TcpLowLatency, BenchBaseline.RawTcpBlocking], Parse("--transport", "tcp", "--baseline", "raw-tcp-blocking,tcp-lowlatency").Baselines);
        Assert.Equal([BenchBaseline.Tcp, BenchBaseline.TcpLowLatency], Parse("--transport", "quic", "--baseline", "tcp-lowlatency,tcp").Baselines);
        Assert.DoesNotContain(BenchBaseline.TcpLowLatency, Parse("--transport", "tcp", "--baseline", "all").Baselines);
        Assert.DoesNotContain(BenchBaseline.TcpLowLatency, Parse("--transport", "memory").Baselines);
    }

    [Fact]
    public void Nats_raw_is_measured_with_other_transports_only_when_named()
    {
        Assert.Equal([BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--transport", "tcp", "--baseline", "all").Baselines);
        Assert.Equal([BenchBaseline.NatsRaw, BenchBaseline.RawTcp], Parse("--transport", "tcp", "--baseline", "raw-tcp,nats-raw").Baselines);
        Assert.Equal([BenchBaseline.NatsRaw, BenchBaseline.RawTcp, BenchBaseline.RawTcpBlocking, BenchBaseline.KestrelH2], Parse("--baseline", "all", "--baseline", "nats-raw").Baselines);
    }

    [Theory]
    [InlineData("--baseline", "nats", "nats-raw, tcp, raw-tcp")]
    [InlineData("--baseline", "none,nats-raw", "--baseline none")]
    [InlineData("--baseline", "tcp,none", "--baseline none")]
    public void Wrong_nats_baselines_are_usage_errors(string option, string value, string expected)
    {
        var ex = Assert.Throws<UsageException>(() => Parse("--transport", "nats", option, value));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--scenario", "sideways", "--scenario 'sideways'")]
    [InlineData("--concurrency", "0", "--concurrency '0'")]
    [InlineData("--concurrency", "many", "--concurrency 'many'")]
    [InlineData("--concurrency", "5000", "--concurrency '5000'")]
    [InlineData("--duration", "0s", "--duration")]
    [InlineData("--duration", "soon", "--duration")]
    [InlineData("--duration", "2h", "--duration")]
    [InlineData("--duration", "0", "--duration must be longer than zero")]
    [InlineData("--duration", "601", "at most 10 minutes")]
    [InlineData("--duration", "1e99", "--duration")]
    [InlineData("--duration", "5x", "A bare number is seconds")]
    [InlineData("--warmup", "-1", "--warmup")]
    [InlineData("--warmup", "-1s", "--warmup")]
    [InlineData("--baseline", "grpc", "--baseline 'grpc'")]
    [InlineData("--baseline", "none,raw-tcp", "--baseline none")]
    [InlineData("--baseline", "tcp-raw", "--baseline 'tcp-raw'")]
    [InlineData("--transport", " ", "--transport")]
    [InlineData("--frob", "1", "--frob")]
    public void Wrong_values_are_usage_errors_that_name_the_option(string option, string value, string expected)
    {
        var ex = Assert.Throws<UsageException>(() => Parse(option, value));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5", 5_000)]
    [InlineData("1.5", 1_500)]
    [InlineData(" 0.25 ", 250)]
    [InlineData("600", 600_000)]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("2m", 120_000)]
    [InlineData("00:00:03", 3_000)]
    public void A_bare_number_is_seconds_and_units_are_read_as_written(string text, int milliseconds)
    {
        var expected = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(expected, Parse("--duration", text).Duration);
        Assert.Equal(expected, Parse("--warmup", text).Warmup);
    }

    [Fact]
    public void A_warmup_of_zero_means_none()
    {
        Assert.Equal(TimeSpan.Zero, Parse("--warmup", "0").Warmup);
        Assert.Equal(TimeSpan.Zero, Parse("--warmup", "0s").Warmup);
    }

    [Fact]
    public void Configuration_overrides_are_kept_apart_from_the_options()
    {
        var args = BenchArguments.Parse(["--transport", "nats", "--Plexus:Transports:Nats:Url=nats://127.0.0.1:4222", "--Logging:LogLevel:Default", "Debug"]);

        Assert.Equal("nats", BenchOptions.Parse(args).Transport);
        Assert.Equal(["--Plexus:Transports:Nats:Url=nats://127.0.0.1:4222", "--Logging:LogLevel:Default", "Debug"], args.ConfigurationArgs);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void Help_is_asked_for_in_every_usual_way(string arg)
    {
        Assert.True(BenchArguments.Parse(["--transport", "tcp", arg]).WantsHelp);
        Assert.False(BenchArguments.Parse(["--transport", "tcp"]).WantsHelp);
    }

    [Fact]
    public void An_option_without_its_value_is_a_usage_error()
    {
        var ex = Assert.Throws<UsageException>(() => BenchArguments.Parse(["--duration"]));
        Assert.Contains("--duration needs a value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Positional_arguments_are_refused()
    {
        var ex = Assert.Throws<UsageException>(() => Parse("memory"));
        Assert.Contains("'memory'", ex.Message, StringComparison.Ordinal);
    }
}
