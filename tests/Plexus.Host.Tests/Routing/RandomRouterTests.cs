using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class RandomRouterTests
{
    [Fact]
    public void Name_is_random()
    {
        Assert.Equal("random", new RandomRouter().Name);
    }

    [Fact]
    public void Picks_exactly_what_the_seeded_random_source_gives()
    {
        var router = new RandomRouter();
        var candidates = Candidates.Equal(7);
        var context = Candidates.Context(seed: 42);
        var replay = new Random(42);

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(replay.Next(candidates.Length), router.Pick(candidates, context));
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_sequence()
    {
        var candidates = Candidates.Equal(5);
        var first = Picks(new RandomRouter(), candidates, Candidates.Context(seed: 9), 100);
        var second = Picks(new RandomRouter(), candidates, Candidates.Context(seed: 9), 100);
        var other = Picks(new RandomRouter(), candidates, Candidates.Context(seed: 10), 100);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Covers_every_candidate_over_many_picks()
    {
        var candidates = Candidates.Equal(6);
        var picks = Picks(new RandomRouter(), candidates, Candidates.Context(seed: 3), 1000);

        for (var i = 0; i < candidates.Length; i++)
        {
            Assert.Contains(i, picks);
        }

        Assert.All(picks, p => Assert.InRange(p, 0, candidates.Length - 1));
    }

    [Fact]
    public void A_single_candidate_is_always_picked()
    {
        Assert.All(Picks(new RandomRouter(), Candidates.Equal(1), Candidates.Context(), 20), p => Assert.Equal(0, p));
    }

    private static int[] Picks(IRouterStrategy router, RouteCandidate[] candidates, RouteContext context, int count)
    {
        var picks = new int[count];
        for (var i = 0; i < count; i++)
        {
            picks[i] = router.Pick(candidates, context);
        }

        return picks;
    }
}
