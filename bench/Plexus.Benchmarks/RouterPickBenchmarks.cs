using System.Globalization;
using BenchmarkDotNet.Attributes;
using Plexus.Hosting.Routing;

namespace Plexus.Benchmarks;

/// <summary>
/// One pick by each built-in strategy over 8 candidates with reported loads and in-flight counts. The baseline takes
/// the first candidate through the same interface: the ratio is what each strategy's choice costs.
/// </summary>
[MemoryDiagnoser]
public class RouterPickBenchmarks
{
    private const int CandidateCount = 8;

    private readonly IRouterStrategy _first = new FirstCandidateRouter();
    private readonly IRouterStrategy _roundRobin = new RoundRobinRouter();
    private readonly IRouterStrategy _random = new RandomRouter();
    private readonly IRouterStrategy _powerOfTwo = new PowerOfTwoChoicesRouter();
    private readonly IRouterStrategy _leastLoaded = new LeastLoadedRouter();
    private readonly IRouterStrategy _direct = new DirectRouter();
    private RouteCandidate[] _candidates = [];
    private RouteContext _context = null!;
    private RouteContext _directContext = null!;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = new EndpointAddress("bench", "router", "pick");
        _candidates = new RouteCandidate[CandidateCount];
        for (var i = 0; i < CandidateCount; i++)
        {
            // Loads and in-flight counts that differ, with one tie, so least-loaded and power-of-two compare for real.
            var metadata = new Dictionary<string, string>
            {
                [InstanceMetadataKeys.Load] = (0.25 * ((i * 3) % CandidateCount)).ToString(CultureInfo.InvariantCulture),
            };
            var instance = new Instance(endpoint, new InstanceId((ulong)i + 1), "tcp", new Uri($"tcp://127.0.0.1:{7400 + i}"), metadata);
            _candidates[i] = new RouteCandidate(instance, i % 3);
        }

        _context = new RouteContext(endpoint, "request-1", null, new Random(42));

        // Direct looks for the named instance; the last one is its worst case.
        _directContext = new RouteContext(endpoint, "request-1", new InstanceId(CandidateCount), new Random(42));
    }

    [Benchmark(Baseline = true)]
    public int First() => _first.Pick(_candidates, _context);

    [Benchmark]
    public int RoundRobin() => _roundRobin.Pick(_candidates, _context);

    [Benchmark]
    public int Random() => _random.Pick(_candidates, _context);

    [Benchmark]
    public int PowerOfTwo() => _powerOfTwo.Pick(_candidates, _context);

    [Benchmark]
    public int LeastLoaded() => _leastLoaded.Pick(_candidates, _context);

    [Benchmark]
    public int Direct() => _direct.Pick(_candidates, _directContext);
}
