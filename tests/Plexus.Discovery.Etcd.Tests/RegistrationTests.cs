using Etcdserverpb;
using Google.Protobuf;
using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>Registering, listing and watching against one real etcd.</summary>
public sealed class RegistrationTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "ep");
    private static readonly EndpointAddress Other = new("ns", "comp", "other");

    [Fact(Timeout = 60_000)]
    public async Task A_watch_sees_existing_instances_then_added_updated_without_reregistering_and_removed()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        var logger = new RecordingLogger();
        await using var provider = TestEtcd.Provider(logger, etcd.ClientUrl);
        using var admin = TestEtcd.Client(etcd.ClientUrl);

        await using var first = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var elsewhere = await provider.RegisterAsync(TestEtcd.Instance(Other, 9), TimeSpan.FromSeconds(10), CancellationToken.None);

        // Written before RegisterAsync returns: listed at once, per endpoint and in all.
        Assert.Equal([1ul], (await provider.ListAsync(Endpoint, CancellationToken.None)).Select(i => i.Id.Value));
        Assert.Equal([1ul, 9ul], (await provider.ListAsync(null, CancellationToken.None)).Select(i => i.Id.Value).Order());

        await using var watch = new WatchReader(provider, Endpoint);
        var existing = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Added, 1ul), (existing.Kind, existing.Instance.Id.Value));

        var second = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 2), TimeSpan.FromSeconds(10), CancellationToken.None);
        var added = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Added, 2ul), (added.Kind, added.Instance.Id.Value));

        // One lease for the node: both instances' keys hang on it.
        var key = $"/plexus-test/ns/comp/ep/{new InstanceId(2)}";
        var lease = await TestEtcd.LeaseOfAsync(admin, key);
        Assert.NotEqual(0, lease);
        Assert.Equal(provider.Session.LeaseId, lease);
        Assert.Equal(lease, await TestEtcd.LeaseOfAsync(admin, $"/plexus-test/ns/comp/ep/{new InstanceId(1)}"));
        var created = (await admin.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) })).Kvs[0];

        await second.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.8", [InstanceMetadataKeys.Busy] = "true" }, CancellationToken.None);
        var updated = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Updated, 2ul), (updated.Kind, updated.Instance.Id.Value));
        Assert.Equal(0.8, updated.Instance.Load);
        Assert.True(updated.Instance.IsBusy);
        Assert.Equal(0.8, second.Instance.Load);

        // Not registered again: the same key (same create revision, next version) on the same lease.
        var rewritten = (await admin.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) })).Kvs[0];
        Assert.Equal(lease, rewritten.Lease);
        Assert.Equal(created.CreateRevision, rewritten.CreateRevision);
        Assert.Equal(created.Version + 1, rewritten.Version);
        Assert.Contains("\"load\":\"0.8\"", rewritten.Value.ToStringUtf8(), StringComparison.Ordinal);

        // Renewals are the provider's: a lease renews without touching etcd, as long as it holds its instance.
        await second.RenewAsync(CancellationToken.None);

        await second.DisposeAsync();
        var removed = await watch.NextAsync(TestEtcd.Wait);
        Assert.Equal((DiscoveryEventKind.Removed, 2ul), (removed.Kind, removed.Instance.Id.Value));
        Assert.Equal(0, await TestEtcd.LeaseOfAsync(admin, key));
        Assert.Equal([1ul], (await provider.ListAsync(Endpoint, CancellationToken.None)).Select(i => i.Id.Value));

        // Nothing else happened to the endpoint: no further event.
        Assert.False(await watch.HasEventWithinAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(HealthStatus.Healthy, provider.Health.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_same_instance_registered_twice_keeps_the_later_one_and_the_earlier_lease_learns()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        var logger = new RecordingLogger();
        await using var provider = TestEtcd.Provider(logger, etcd.ClientUrl);

        var earlier = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 5, load: "0.1"), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var later = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 5, load: "0.9"), TimeSpan.FromSeconds(10), CancellationToken.None);

        var error = await Assert.ThrowsAsync<PlexusException>(() => earlier.RenewAsync(CancellationToken.None).AsTask());
        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Contains("register the instance again", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, logger.Count(2310));

        // Disposing the earlier one leaves the later registration in place.
        await earlier.DisposeAsync();
        var listed = Assert.Single(await provider.ListAsync(Endpoint, CancellationToken.None));
        Assert.Equal(0.9, listed.Load);
    }

    [Fact(Timeout = 60_000)]
    public async Task Keys_that_are_not_instances_are_skipped_with_one_warning_each()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        var logger = new RecordingLogger();
        await using var provider = TestEtcd.Provider(logger, etcd.ClientUrl);
        using var admin = TestEtcd.Client(etcd.ClientUrl);
        await using var good = await provider.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await admin.PutAsync($"/plexus-test/ns/comp/ep/{new InstanceId(2)}", "not json");
        await admin.PutAsync($"/plexus-test/ns/comp/ep/{new InstanceId(3)}", System.Text.Encoding.UTF8.GetString(EtcdInstanceRecord.Serialize(TestEtcd.Instance(Other, 3))));

        Assert.Equal([1ul], (await provider.ListAsync(Endpoint, CancellationToken.None)).Select(i => i.Id.Value));
        Assert.Equal([1ul], (await provider.ListAsync(Endpoint, CancellationToken.None)).Select(i => i.Id.Value));
        Assert.Equal(2, logger.Count(2308));
        Assert.Contains(logger.Messages(2308), m => m.Contains("not the one its key names", StringComparison.Ordinal));
    }
}
