using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class PowerOfTwoChoicesRouterTests
{
    [Fact]
    public void Name_is_power_of_two()
    {
        Assert.Equal("power-of-two", new PowerOfTwoChoicesRouter().Name);
    }

    [Fact]
    public void Picks_what_two_distinct_seeded_draws_and_the_rules_give()
    {
        var candidates = new[]
        {
            Candidates.Make(1, load: 0.5, inFlight: 3),
            Candidates.Make(2, load: 0.1, inFlight: 1),
            Candidates.Make(3, load: 0.9, inFlight: 1),
            Candidates.Make(4, load: 0.2, inFlight: 0),
            Candidates.Make(5, load: 0.0, inFlight: 7),
        };
        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 1234);
        var replay = new Random(1234);

        for (var i = 0; i < 500; i++)
        {
            var first = replay.Next(candidates.Length);
            var second = replay.Next(candidates.Length - 1);
            if (second >= first)
            {
                second++;
            }

            var a = candidates[first];
            var b = candidates[second];
            var expected = a.InFlight != b.InFlight
                ? (a.InFlight < b.InFlight ? first : second)
                : (b.Load < a.Load ? second : first);

            Assert.Equal(expected, router.Pick(candidates, context));
        }
    }

    [Fact]
    public void Of_two_candidates_always_picks_the_one_with_fewer_in_flight()
    {
        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 5);
        RouteCandidate[] lowFirst = [Candidates.Make(1, load: 0.9, inFlight: 1), Candidates.Make(2, load: 0.0, inFlight: 2)];
        RouteCandidate[] lowSecond = [Candidates.Make(1, load: 0.0, inFlight: 2), Candidates.Make(2, load: 0.9, inFlight: 1)];

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(0, router.Pick(lowFirst, context));
            Assert.Equal(1, router.Pick(lowSecond, context));
        }
    }

    [Fact]
    public void Equal_in_flight_is_broken_by_lower_load()
    {
        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 6);
        RouteCandidate[] candidates = [Candidates.Make(1, load: 0.7, inFlight: 2), Candidates.Make(2, load: 0.3, inFlight: 2)];

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(1, router.Pick(candidates, context));
        }
    }

    [Fact]
    public void Never_picks_the_most_loaded_candidate()
    {
        var candidates = new RouteCandidate[6];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = Candidates.Make((ulong)i + 1, inFlight: i);
        }

        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 8);
        var seen = new bool[candidates.Length];
        for (var i = 0; i < 2000; i++)
        {
            seen[router.Pick(candidates, context)] = true;
        }

        // The busiest always loses its pair; the idlest always wins its pairs, and every other one wins against a busier draw.
        Assert.False(seen[^1]);
        for (var i = 0; i < candidates.Length - 1; i++)
        {
            Assert.True(seen[i], $"candidate {i} was never picked");
        }
    }

    [Fact]
    public void Covers_every_candidate_when_all_are_equal()
    {
        var candidates = Candidates.Equal(5);
        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 9);
        var counts = new int[candidates.Length];
        for (var i = 0; i < 1000; i++)
        {
            counts[router.Pick(candidates, context)]++;
        }

        Assert.All(counts, count => Assert.True(count > 0));
    }

    [Fact]
    public void A_single_candidate_is_picked_without_drawing()
    {
        Assert.Equal(0, new PowerOfTwoChoicesRouter().Pick(Candidates.Equal(1), Candidates.Context(new NoDrawRandom())));
    }

    [Fact]
    public void A_candidate_reporting_nan_load_loses_the_load_tie_break()
    {
        var nan = Candidates.Make(1, inFlight: 1) with
        {
            Instance = Candidates.Make(1).Instance with { Metadata = new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "NaN" } },
        };
        RouteCandidate[] candidates = [nan, Candidates.Make(2, load: 1000, inFlight: 1)];
        var router = new PowerOfTwoChoicesRouter();
        var context = Candidates.Context(seed: 10);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(1, router.Pick(candidates, context));
        }
    }
}
