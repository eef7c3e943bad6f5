namespace Plexus.Transport.Nats.Tests;

/// <summary>Tests that measure the process's memory run alone, so that other tests' allocations do not count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuresMemoryCollection
{
    public const string Name = "Measures memory";
}
