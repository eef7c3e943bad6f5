namespace Plexus.Transport.Tcp.Tests;

/// <summary>Tests that count the process's connection threads run alone, so that other tests' connections do not count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CountsThreadsCollection
{
    public const string Name = "Counts threads";
}
