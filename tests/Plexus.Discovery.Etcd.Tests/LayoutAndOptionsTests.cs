using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>The key layout, the JSON value and the settings, without etcd.</summary>
public sealed class LayoutAndOptionsTests
{
    [Fact(Timeout = 10_000)]
    public Task Keys_name_the_endpoint_and_the_instance_and_split_back()
    {
        var layout = new EtcdKeyLayout("/plexus/");
        var endpoint = new EndpointAddress("dynamo", "backend", "generate");
        var key = layout.InstanceKey(endpoint, new InstanceId(0x75bcd15));

        Assert.Equal("/plexus/dynamo/backend/generate/00000000075bcd15", key);
        Assert.True(layout.TryParse(key, out var parsed, out var id));
        Assert.Equal((endpoint, 0x75bcd15ul), (parsed, id.Value));
        Assert.False(layout.TryParse("/plexus/dynamo/backend/generate/xyz", out _, out _));
        Assert.False(layout.TryParse("/plexus/dynamo/backend/00000000075bcd15", out _, out _));
        Assert.False(layout.TryParse("/other/dynamo/backend/generate/00000000075bcd15", out _, out _));
        Assert.Equal("/plexus/dynamo/backend/generate/", layout.EndpointPrefix(endpoint));
        Assert.Equal("/plexus/dynamo/backend/generate0"u8.ToArray(), EtcdKeyLayout.RangeEnd("/plexus/dynamo/backend/generate/"));

        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task The_value_round_trips_the_instance_and_refuses_what_is_not_one()
    {
        var instance = new Instance(new EndpointAddress("a", "b", "c"), new InstanceId(42), "tcp", new Uri("tcp://10.0.0.7:7400"),
            new Dictionary<string, string> { ["load"] = "0.5", ["node"] = "n-1" });
        var parsed = EtcdInstanceRecord.TryParse(EtcdInstanceRecord.Serialize(instance), out _);
        Assert.Equal(instance, parsed);

        Assert.Null(EtcdInstanceRecord.TryParse("[]"u8.ToArray(), out var notObject));
        Assert.Contains("not a JSON object", notObject, StringComparison.Ordinal);
        Assert.Null(EtcdInstanceRecord.TryParse("{\"version\":2}"u8.ToArray(), out var version));
        Assert.Contains("version", version, StringComparison.Ordinal);
        Assert.Null(EtcdInstanceRecord.TryParse("{"u8.ToArray(), out _));

        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task Every_bad_setting_is_named_by_its_key()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"plexus-missing-{Guid.NewGuid():N}.pem");
        var options = new EtcdDiscoveryOptions
        {
            Endpoints = ["ftp://x:1", "http://a:2379/path", "https://b:2379"],
            Prefix = " ",
            LeaseTtl = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.Zero,
            User = "plexus",
            CertFile = missing,
        };

        var result = new EtcdDiscoveryOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:Endpoints has 'ftp://x:1'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:Endpoints has 'http://a:2379/path'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:Prefix", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:LeaseTtl is 00:00:00.5", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:RequestTimeout", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:User is set but Plexus:Discovery:Etcd:Password is not", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:CertFile is '", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Plexus:Discovery:Etcd:CertFile is set but Plexus:Discovery:Etcd:KeyFile is not", StringComparison.Ordinal));

        var mixed = new EtcdDiscoveryOptionsValidator().Validate(null, new EtcdDiscoveryOptions { Endpoints = ["http://a:2379", "https://b:2379"] });
        Assert.Contains(mixed.Failures!, f => f.Contains("mixes http:// and https://", StringComparison.Ordinal));
        Assert.True(new EtcdDiscoveryOptionsValidator().Validate(null, new EtcdDiscoveryOptions()).Succeeded);

        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task The_plugin_binds_its_section_and_reads_several_endpoints_from_one_value()
    {
        // What Plexus.Hosting does when a host loads: durations are read the Plexus way (2.5s).
        PlexusDurationConverter.Register();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plexus:Discovery:Etcd:Endpoints"] = "http://a:2379, http://b:2379",
            ["Plexus:Discovery:Etcd:Prefix"] = "/mine/",
            ["Plexus:Discovery:Etcd:LeaseTtl"] = "2.5s",
            ["Plexus:Discovery:Etcd:User"] = "u",
            ["Plexus:Discovery:Etcd:Password"] = "p",
        }).Build();
        var services = new ServiceCollection();
        new EtcdPlugin().ConfigureServices(services, configuration);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<EtcdDiscoveryOptions>>().Value;

        Assert.Equal(["http://a:2379", "http://b:2379"], options.EndpointList());
        Assert.Equal("/mine", options.NormalizedPrefix);
        Assert.Equal(3, options.LeaseTtlSeconds);
        Assert.Equal("u", options.User);
        Assert.Equal([EtcdDiscoveryOptions.DefaultEndpoint], new EtcdDiscoveryOptions().EndpointList());

        return Task.CompletedTask;
    }
}
