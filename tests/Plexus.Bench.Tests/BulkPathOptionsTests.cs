using Plexus.Host.Cli;

namespace Plexus.Bench.Tests;

/// <summary>The bulk-path scenario on the command line.</summary>
public sealed class BulkPathOptionsTests
{
    private static BenchOptions Parse(params string[] args) => BenchOptions.Parse(BenchArguments.Parse(args));

    [Fact]
    public void Bulk_path_is_read_alone_and_measures_no_subjects()
    {
        var options = Parse("--scenario", "bulk-path");

        Assert.Equal([BenchScenario.BulkPath], options.Scenarios);
        Assert.False(options.MeasuresSubjects);
        Assert.Equal([64 << 20, 1 << 30], options.PayloadSizes);
        Assert.Equal(BenchNames.BulkPath, BenchNames.Of(BenchScenario.BulkPath));
    }

    [Fact]
    public void Bulk_path_is_not_part_of_all_and_sorts_after_the_others()
    {
        Assert.DoesNotContain(BenchScenario.BulkPath, Parse("--scenario", "all").Scenarios);
        Assert.DoesNotContain(BenchScenario.BulkPath, Parse().Scenarios);

        var options = Parse("--scenario", "bulk-path,bulk", "--scenario", "BULK-PATH");
        Assert.Equal([BenchScenario.Bulk, BenchScenario.BulkPath], options.Scenarios);
        Assert.True(options.MeasuresSubjects);
    }

    [Fact]
    public void A_wrong_scenario_names_bulk_path_among_the_choices()
    {
        var ex = Assert.Throws<UsageException>(() => Parse("--scenario", "bulkpath"));

        Assert.Contains("bulk-path", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bulk_path_counts_five_measurements_per_size_and_the_subject_runner_none()
    {
        var options = Parse("--scenario", "bulk-path,unary", "--concurrency", "1,8");

        Assert.Equal(10, BulkPathBench.CountMeasurements(options));
        Assert.Equal(2 * 3, BenchRunner.CountMeasurements(options, 3));
        Assert.Equal(0, BulkPathBench.CountMeasurements(Parse("--scenario", "bulk")));
    }

    [Fact]
    public void The_help_documents_the_scenario() =>
        Assert.Contains("bulk-path:", BenchUsage.Text, StringComparison.Ordinal);
}
