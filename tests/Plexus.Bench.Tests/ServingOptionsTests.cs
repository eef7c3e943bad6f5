using Plexus.Host.Cli;

namespace Plexus.Bench.Tests;

public sealed class ServingOptionsTests
{
    private static BenchOptions Parse(params string[] args) => BenchOptions.Parse(BenchArguments.Parse(args));

    [Fact]
    public void Serving_is_a_scenario_of_its_own_outside_all_with_defaults()
    {
        var options = Parse("--scenario", "serving");

        Assert.Equal([BenchScenario.Serving], options.Scenarios);
        Assert.Equal(BenchNames.Serving, BenchNames.Of(BenchScenario.Serving));
        Assert.True(options.MeasuresSubjects);
        var serving = options.ServingSettings;
        Assert.Equal([1000], serving.Streams);
        Assert.Equal([1], serving.Connections);
        Assert.Equal(64, serving.Tokens);
        Assert.Equal(50, serving.TokenRate);
        Assert.Equal(32, serving.TokenBytes);
        Assert.DoesNotContain(BenchScenario.Serving, Parse("--scenario", "all").Scenarios);
        Assert.Equal([BenchScenario.Unary, BenchScenario.Bulk, BenchScenario.Serving], Parse("--scenario", "serving,bulk,unary").Scenarios);
    }

    [Fact]
    public void Every_serving_option_is_read_and_plans_pair_streams_with_connections()
    {
        var options = Parse("--scenario", "serving", "--streams", "10000,1000", "--connections", "1000", "--connections", "1", "--tokens", "16", "--token-rate", "12.5", "--token-bytes", "64");

        var serving = options.ServingSettings;
        Assert.Equal([1000, 10000], serving.Streams);
        Assert.Equal([1, 1000], serving.Connections);
        Assert.Equal(16, serving.Tokens);
        Assert.Equal(12.5, serving.TokenRate);
        Assert.Equal(64, serving.TokenBytes);
        Assert.Equal([(1000, 1), (1000, 1000), (10000, 1), (10000, 1000)], serving.Plans.Select(p => (p.Streams, p.Connections)));
        Assert.Equal(10000, serving.MaxStreamsPerConnection);

        var plan = serving.Plans.Last();
        Assert.Equal(10, plan.StreamsPerConnection);
        Assert.Equal(125_000, plan.TokensPerSecond);
        Assert.Equal(10000 * 12.5 / 16, plan.OpensPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(1.28), plan.StreamLifetime);
        Assert.Equal(TimeSpan.FromMilliseconds(80), plan.Pace);
        Assert.Equal(80_000_000, plan.PaceTicks(1_000_000_000));
    }

    [Theory]
    [InlineData("--streams", "0", "--streams '0'")]
    [InlineData("--streams", "100001", "--streams '100001'")]
    [InlineData("--connections", "lots", "--connections 'lots'")]
    [InlineData("--tokens", "2", "--tokens '2'")]
    [InlineData("--tokens", "5000", "--tokens '5000'")]
    [InlineData("--token-rate", "0", "--token-rate '0'")]
    [InlineData("--token-rate", "2000", "--token-rate '2000'")]
    [InlineData("--token-rate", "fast", "--token-rate 'fast'")]
    [InlineData("--token-bytes", "8", "--token-bytes '8'")]
    [InlineData("--token-bytes", "65", "--token-bytes '65'")]
    public void Wrong_serving_values_are_usage_errors_that_name_the_option(string option, string value, string expected)
    {
        var ex = Assert.Throws<UsageException>(() => Parse("--scenario", "serving", option, value));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_connections_than_streams_and_too_many_arrivals_to_record_are_usage_errors()
    {
        Assert.Contains("every connection carries at least one stream", Assert.Throws<UsageException>(() => Parse("--scenario", "serving", "--streams", "200,5000", "--connections", "1000")).Message, StringComparison.Ordinal);
        Assert.Contains("token arrivals", Assert.Throws<UsageException>(() => Parse("--scenario", "serving", "--streams", "100000", "--tokens", "4096")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serving_options_without_the_serving_scenario_are_usage_errors()
    {
        var ex = Assert.Throws<UsageException>(() => Parse("--scenario", "unary", "--streams", "10"));
        Assert.Contains("--streams applies to the serving scenario only", ex.Message, StringComparison.Ordinal);
        Assert.Null(Parse("--scenario", "unary").Serving);
    }

    [Fact]
    public void The_warm_up_is_the_same_shape_smaller()
    {
        var warmup = ServingBench.Warmup(new ServingPlan(10000, 1000, 64, 50, 32));

        Assert.Equal(new ServingPlan(100, 100, 8, 50, 32), warmup);
        Assert.Equal(new ServingPlan(20, 1, 3, 50, 32), ServingBench.Warmup(new ServingPlan(20, 1, 3, 50, 32)));
    }
}
