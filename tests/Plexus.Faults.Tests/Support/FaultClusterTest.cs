using Xunit.Abstractions;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A test class with a fresh <see cref="FaultCluster"/> per test: started before it, and after it the nodes' events
/// written to the test output and everything cleaned up, whether the test passed or not.
/// </summary>
public abstract class FaultClusterTest(ITestOutputHelper output) : IAsyncLifetime
{
    protected FaultCluster Cluster { get; private set; } = null!;

    protected ITestOutputHelper Output { get; } = output;

    public async Task InitializeAsync() => Cluster = await FaultCluster.StartAsync();

    public async Task DisposeAsync()
    {
        // Null when the cluster failed to start; that failure is the test's.
        if (Cluster is not null)
        {
            Output.WriteLine(Cluster.NodeEvents());
            await Cluster.DisposeAsync();
        }
    }
}
