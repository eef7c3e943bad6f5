using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class LeastLoadedRouterTests
{
    [Fact]
    public void Name_is_least_loaded()
    {
        Assert.Equal("least-loaded", new LeastLoadedRouter().Name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public void Picks_the_lowest_load_without_drawing(int lowest)
    {
        var candidates = new RouteCandidate[5];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = Candidates.Make((ulong)i + 1, load: i == lowest ? 0.05 : 0.5 + i, inFlight: i == lowest ? 9 : 0);
        }

        Assert.Equal(lowest, new LeastLoadedRouter().Pick(candidates, Candidates.Context(new NoDrawRandom())));
    }

    [Fact]
    public void Equal_load_is_broken_by_fewer_in_flight()
    {
        RouteCandidate[] candidates =
        [
            Candidates.Make(1, load: 0.2, inFlight: 4),
            Candidates.Make(2, load: 0.2, inFlight: 1),
            Candidates.Make(3, load: 0.2, inFlight: 3),
            Candidates.Make(4, load: 0.9, inFlight: 0),
        ];

        Assert.Equal(1, new LeastLoadedRouter().Pick(candidates, Candidates.Context(new NoDrawRandom())));
    }

    [Fact]
    public void Full_ties_are_shared_at_random_among_the_tied_only()
    {
        RouteCandidate[] candidates =
        [
            Candidates.Make(1, load: 0.5, inFlight: 0),
            Candidates.Make(2, load: 0.1, inFlight: 2),
            Candidates.Make(3, load: 0.1, inFlight: 1),
            Candidates.Make(4, load: 0.1, inFlight: 1),
            Candidates.Make(5, load: 0.1, inFlight: 1),
        ];
        var router = new LeastLoadedRouter();
        var context = Candidates.Context(seed: 77);
        var counts = new int[candidates.Length];
        for (var i = 0; i < 3000; i++)
        {
            counts[router.Pick(candidates, context)]++;
        }

        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[1]);

        // Each of the three tied candidates should get about a third; 25% is far outside chance for 3000 picks.
        Assert.All(counts[2..], count => Assert.InRange(count, 750, 1250));
    }

    [Fact]
    public void The_same_seed_gives_the_same_tie_breaks()
    {
        var candidates = Candidates.Equal(4);
        var first = Picks(candidates, seed: 5);
        var second = Picks(candidates, seed: 5);

        Assert.Equal(first, second);
        Assert.NotEqual(first, Picks(candidates, seed: 6));
    }

    [Fact]
    public void A_single_candidate_is_picked_without_drawing()
    {
        Assert.Equal(0, new LeastLoadedRouter().Pick(Candidates.Equal(1), Candidates.Context(new NoDrawRandom())));
    }

    [Fact]
    public void A_candidate_reporting_nan_load_is_not_preferred()
    {
        var nan = Candidates.Make(1) with
        {
            Instance = Candidates.Make(1).Instance with { Metadata = new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "NaN" } },
        };
        RouteCandidate[] candidates = [nan, Candidates.Make(2, load: 50)];

        Assert.Equal(1, new LeastLoadedRouter().Pick(candidates, Candidates.Context(new NoDrawRandom())));
    }

    private static int[] Picks(RouteCandidate[] candidates, int seed)
    {
        var router = new LeastLoadedRouter();
        var context = Candidates.Context(seed);
        var picks = new int[50];
        for (var i = 0; i < picks.Length; i++)
        {
            picks[i] = router.Pick(candidates, context);
        }

        return picks;
    }
}
