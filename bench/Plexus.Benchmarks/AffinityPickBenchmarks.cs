using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plexus.Router.Affinity;

namespace Plexus.Benchmarks;

/// <summary>
/// One pick by the affinity plugin's strategies among 1,000 candidates with varied in-flight counts, the prefix
/// strategy over an index of 10,000 blocks (100 prefixes of 100 blocks, each held by three instances) and a request
/// naming 64 blocks, 40 of them held. The ring and the index are built in the setup: what is measured is the steady
/// state, a candidate list that is the same as last time. The baseline is the host's power-of-two-choices.
/// </summary>
[MemoryDiagnoser]
public class AffinityPickBenchmarks
{
    private const int CandidateCount = 1_000;
    private const int Prefixes = 100;
    private const int BlocksPerPrefix = 100;

    private readonly Factory _meters = new();
    private readonly IRouterStrategy _powerOfTwo = new Plexus.Hosting.Routing.PowerOfTwoChoicesRouter();
    private AffinityRouter _affinity = null!;
    private PrefixRouter _prefix = null!;
    private RouteCandidate[] _candidates = [];
    private RouteContext _keyed = null!;
    private RouteContext _unkeyed = null!;
    private RouteContext _blocks = null!;
    private RouteContext _unknownBlocks = null!;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = new EndpointAddress("bench", "router", "pick");
        var chains = new ulong[Prefixes][];
        for (var p = 0; p < Prefixes; p++)
        {
            chains[p] = Chain($"prefix-{p}", BlocksPerPrefix);
        }

        _candidates = new RouteCandidate[CandidateCount];
        for (var i = 0; i < CandidateCount; i++)
        {
            // Instances 0..299 hold one prefix each (three per prefix); the rest hold nothing.
            var metadata = i < Prefixes * 3
                ? new Dictionary<string, string> { [AffinityHeaders.PrefixBlocksMetadata] = PrefixBlocks.Format(chains[i % Prefixes]) }
                : new Dictionary<string, string>();
            var instance = new Instance(endpoint, new InstanceId((ulong)(i + 1) * 0x9E3779B97F4A7C15UL), "tcp", new Uri($"tcp://10.0.{i / 250}.{i % 250}:7400"), metadata);
            _candidates[i] = new RouteCandidate(instance, (i * 7) % 5);
        }

        var options = Options.Create(new AffinityRouterOptions());
        var metrics = new RoutingMetrics(_meters);
        _affinity = new AffinityRouter(options, metrics, TimeProvider.System);
        _prefix = new PrefixRouter(options, metrics, TimeProvider.System, NullLogger<PrefixRouter>.Instance);

        var request = new ulong[64];
        Array.Copy(chains[17], request, 40);
        Array.Copy(Chain("the rest of the request", 24), 0, request, 40, 24);
        var random = new Random(42);
        _keyed = new RouteContext(endpoint, "request-1", null, random) { Headers = new Dictionary<string, string> { [AffinityHeaders.AffinityKey] = "user-1234" } };
        _unkeyed = new RouteContext(endpoint, "request-1", null, random);
        _blocks = new RouteContext(endpoint, "request-1", null, random) { Headers = new Dictionary<string, string> { [AffinityHeaders.PrefixBlocks] = PrefixBlocks.Format(request) } };
        _unknownBlocks = new RouteContext(endpoint, "request-1", null, random) { Headers = new Dictionary<string, string> { [AffinityHeaders.PrefixBlocks] = PrefixBlocks.Format(Chain("unknown", 64)) } };

        // The first pick builds the ring and reads every instance's blocks into the index.
        _affinity.Pick(_candidates, _keyed);
        _prefix.Pick(_candidates, _blocks);
        if (_prefix.IndexBlocks(endpoint) != Prefixes * BlocksPerPrefix)
        {
            throw new InvalidOperationException($"The index holds {_prefix.IndexBlocks(endpoint)} blocks, not {Prefixes * BlocksPerPrefix}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _meters.Dispose();

    /// <summary>The host's power-of-two-choices over the same candidates: what a pick that reads no request costs.</summary>
    [Benchmark(Baseline = true)]
    public int PowerOfTwo() => _powerOfTwo.Pick(_candidates, _unkeyed);

    [Benchmark]
    public int AffinityKeyed() => _affinity.Pick(_candidates, _keyed);

    [Benchmark]
    public int AffinityNoKey() => _affinity.Pick(_candidates, _unkeyed);

    [Benchmark]
    public int PrefixHit() => _prefix.Pick(_candidates, _blocks);

    [Benchmark]
    public int PrefixMiss() => _prefix.Pick(_candidates, _unknownBlocks);

    private static ulong[] Chain(string text, int count)
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

    /// <summary>Meters without a listener, as in a process that exports nothing.</summary>
    private sealed class Factory : IMeterFactory
    {
        private readonly List<Meter> _made = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _made.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _made)
            {
                meter.Dispose();
            }
        }
    }
}
