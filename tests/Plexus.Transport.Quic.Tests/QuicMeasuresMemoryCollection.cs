namespace Plexus.Transport.Quic.Tests;

/// <summary>Tests that measure the process's memory run alone, so that other tests' allocations do not count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuicMeasuresMemoryCollection
{
    public const string Name = "Measures memory";
}
