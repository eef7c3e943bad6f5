using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Plexus.Router.Affinity;

namespace Plexus.Router.Affinity.Tests.Support;

/// <summary>Strategies as the plugin builds them, on a fake clock, and candidates to give them.</summary>
internal static class Routers
{
    public static readonly EndpointAddress Endpoint = EndpointAddress.Parse("kv/cache/generate");
    private static readonly Uri Address = new("tcp://127.0.0.1:7400");

    public static AffinityRouter Affinity(AffinityRouterOptions? options = null, FakeTimeProvider? time = null, RoutingMetrics? metrics = null) =>
        new(Options.Create(options ?? new AffinityRouterOptions()), metrics ?? Metrics(), time ?? new FakeTimeProvider());

    public static PrefixRouter Prefix(AffinityRouterOptions? options = null, FakeTimeProvider? time = null, RoutingMetrics? metrics = null) =>
        new(Options.Create(options ?? new AffinityRouterOptions()), metrics ?? Metrics(), time ?? new FakeTimeProvider(), NullLogger<PrefixRouter>.Instance);

    public static RoutingMetrics Metrics() => new(new TestMeterFactory());

    /// <summary>Instances with ids 1..n (fixed, so that every run places them on the ring alike).</summary>
    public static Instance[] Instances(int count, int firstId = 1)
    {
        var instances = new Instance[count];
        for (var i = 0; i < count; i++)
        {
            instances[i] = Instance((ulong)(firstId + i));
        }

        return instances;
    }

    public static Instance Instance(ulong id, string? blocks = null) =>
        new(Endpoint, new InstanceId(id), "tcp", Address, blocks is null ? Plexus.Instance.EmptyMetadata : new Dictionary<string, string> { [AffinityHeaders.PrefixBlocksMetadata] = blocks });

    /// <summary>The same instance as discovery delivers it after a metadata update: a new record.</summary>
    public static Instance WithBlocks(Instance instance, params ulong[] blocks) =>
        instance with { Metadata = new Dictionary<string, string> { [AffinityHeaders.PrefixBlocksMetadata] = PrefixBlocks.Format(blocks) } };

    public static RouteCandidate[] Candidates(IEnumerable<Instance> instances, params int[] inFlight)
    {
        var list = instances.ToArray();
        var candidates = new RouteCandidate[list.Length];
        for (var i = 0; i < list.Length; i++)
        {
            candidates[i] = new RouteCandidate(list[i], i < inFlight.Length ? inFlight[i] : 0);
        }

        return candidates;
    }

    public static RouteContext Context(Random random, string? header = null, string? value = null) =>
        new(Endpoint, "r", null, random) { Headers = header is null ? Plexus.Instance.EmptyMetadata : new Dictionary<string, string> { [header] = value! } };

    public static RouteContext Keyed(string key, Random? random = null) => Context(random ?? new Random(1), AffinityHeaders.AffinityKey, key);

    public static RouteContext Blocks(ulong[] blocks, Random? random = null) => Context(random ?? new Random(1), AffinityHeaders.PrefixBlocks, PrefixBlocks.Format(blocks));

    /// <summary>A chain of <paramref name="count"/> block hashes, as a caller computes them over its content.</summary>
    public static ulong[] Chain(string text, int count)
    {
        var blocks = new ulong[count];
        ulong previous = 0;
        for (var i = 0; i < count; i++)
        {
            previous = PrefixBlocks.Chain(previous, System.Text.Encoding.UTF8.GetBytes($"{text}/{i}"));
            blocks[i] = previous;
        }

        return blocks;
    }

    internal sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
