using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Plexus.Hosting.RequestPlane.Client;

namespace Plexus.Host.Tests.RequestPlane;

public sealed class EndpointInstancesTests
{
    private static readonly EndpointAddress Endpoint = EndpointAddress.Parse("ns/comp/ep");

    private static Instance Make(ulong id, string load = "0") =>
        new(Endpoint, new InstanceId(id), "memory", new Uri($"memory://{id}"), new Dictionary<string, string> { [InstanceMetadataKeys.Load] = load });

    [Fact]
    public async Task Events_add_update_and_remove_while_keeping_per_instance_state()
    {
        await using var instances = new EndpointInstances(Endpoint, Mock.Of<IDiscoveryProvider>(), NullLogger.Instance, static i => i);

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
        await using var instances = new EndpointInstances(Endpoint, Mock.Of<IDiscoveryProvider>(), NullLogger.Instance, static i => i);

        Assert.False(await instances.WaitForInstancesAsync(TimeSpan.FromMilliseconds(50), TimeSpan.Zero, CancellationToken.None));
        Assert.False(instances.HasAnswered);

        var wait = instances.WaitForInstancesAsync(TimeSpan.FromSeconds(30), TimeSpan.Zero, CancellationToken.None).AsTask();
        instances.Apply(new DiscoveryEvent(DiscoveryEventKind.Added, Make(1)));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(instances.HasAnswered);
    }

    [Fact]
    public async Task A_discovery_that_answers_late_is_waited_for_beyond_the_wait_for_an_instance_to_appear()
    {
        var slow = new SlowDiscovery(answerAfter: TimeSpan.FromMilliseconds(1500));
        await slow.RegisterAsync(Make(1), TimeSpan.FromMinutes(5), CancellationToken.None);
        await using var instances = new EndpointInstances(Endpoint, slow, NullLogger.Instance, static i => i);
        instances.Start();

        // Far longer than the 1.5 s the answer takes: a busy machine is slow, not empty.
        Assert.True(await instances.WaitForInstancesAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.Equal(1, instances.Listed);
    }

    [Fact]
    public async Task A_discovery_that_answered_with_none_ends_the_wait_after_the_shorter_wait()
    {
        await using var instances = new EndpointInstances(Endpoint, new SlowDiscovery(answerAfter: TimeSpan.Zero), NullLogger.Instance, static i => i);
        instances.Start();

        var ended = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(await instances.WaitForInstancesAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.True(instances.HasAnswered);
        Assert.Equal(0, instances.Listed);
        Assert.True(ended.Elapsed < TimeSpan.FromSeconds(30), $"Waited {ended.Elapsed} although discovery had answered.");
    }
}
