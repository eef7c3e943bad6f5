namespace Plexus.Bench.Tests;

/// <summary>
/// The tests that run real UCX transfers (the bulk-path scenario, ucx_perftest) run alone: their worker threads spin
/// while transfers are in flight, and on a 2-CPU machine they would starve the timed measurements of the other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UcxMeasurementsCollection
{
    public const string Name = "UCX measurements";
}
