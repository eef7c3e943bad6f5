using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>Providers, instances and a direct etcd client for the tests.</summary>
internal static class TestEtcd
{
    /// <summary>The bound on any single wait in these tests: generous, for a busy two-core machine.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A provider on <paramref name="endpoints"/>, with a 2 s lease unless configured otherwise.</summary>
    public static EtcdDiscoveryProvider Provider(RecordingLogger logger, IEnumerable<string> endpoints, Action<EtcdDiscoveryOptions>? configure = null)
    {
        var options = new EtcdDiscoveryOptions
        {
            Endpoints = [.. endpoints],
            Prefix = "/plexus-test",
            LeaseTtl = TimeSpan.FromSeconds(2),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        var valid = new EtcdDiscoveryOptionsValidator().Validate(null, options);
        Assert.True(valid.Succeeded, valid.FailureMessage);
        return new EtcdDiscoveryProvider(Options.Create(options), logger);
    }

    public static EtcdDiscoveryProvider Provider(RecordingLogger logger, string endpoint, Action<EtcdDiscoveryOptions>? configure = null) =>
        Provider(logger, [endpoint], configure);

    public static Instance Instance(EndpointAddress endpoint, ulong id, string? load = null) => new(
        endpoint,
        new InstanceId(id),
        "tcp",
        new Uri($"tcp://127.0.0.1:{7000 + (int)(id % 1000)}"),
        load is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [InstanceMetadataKeys.Load] = load });

    /// <summary>A plain dotnet-etcd client, to look at and change etcd behind the provider's back.</summary>
    public static EtcdClient Client(string url) => new(url);

    /// <summary>The lease a key is attached to, or 0 when the key does not exist.</summary>
    public static async Task<long> LeaseOfAsync(EtcdClient client, string key)
    {
        var response = await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return response.Kvs.Count == 0 ? 0 : response.Kvs[0].Lease;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> after <see cref="Wait"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var giveUp = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, $"timed out waiting until {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    public static Task EventuallyAsync(Func<bool> condition, string what) => EventuallyAsync(() => Task.FromResult(condition()), what);
}
