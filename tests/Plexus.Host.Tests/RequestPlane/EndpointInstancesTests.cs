using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Plexus.Host.RequestPlane.Client;

namespace Plexus.Host.Tests.RequestPlane;

public sealed class EndpointInstancesTests
{
    private static readonly EndpointAddress Endpoint = EndpointAddress.Parse("ns/comp/ep");

    private static Instance Make(ulong id, string load = "0") =>
        new(Endpoint, new InstanceId(id), "memory", new Uri($"memory://{id}"), new Dictionary<string, string> { [InstanceMetadataKeys.Load] = load });

    [Fact]
    public async Task Events_add_update_and_remove_while_keeping_per_instance_state()
    {
        await using var instances = new EndpointInstances(Endpoint, Mock.Of<IDiscoveryProvider>(), NullLogger.Instance);

        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Added, Make(1)));
        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Added, Make(2)));
        var first = instances.Snapshot[0];
        first.Enter();
        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Updated, Make(1, "0.75")));
        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Added, Make(2))); // a repeated add is an update

        Assert.Equal(2, instances.Snapshot.Length);
        Assert.Same(first, instances.Snapshot[0]);
        Assert.Equal(1, instances.Snapshot[0].InFlight);
        Assert.Equal(0.75, instances.Snapshot[0].Instance.Load);

        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Removed, Make(1)));
        var remaining = Assert.Single(instances.Snapshot);
        Assert.Equal(new InstanceId(2), remaining.Instance.Id);

        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Removed, Make(9)));
        Assert.Single(instances.Snapshot);
    }

    [Fact]
    public async Task Waiting_for_instances_ends_when_one_appears_or_the_wait_runs_out()
    {
        await using var instances = new EndpointInstances(Endpoint, Mock.Of<IDiscoveryProvider>(), NullLogger.Instance);

        Assert.False(await instances.WaitForInstancesAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));

        var wait = instances.WaitForInstancesAsync(TimeSpan.FromSeconds(30), CancellationToken.None).AsTask();
        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Added, Make(1)));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
