using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests;

public sealed class AffinityRouterTests
{
    [Fact]
    public void A_key_goes_to_the_same_instance_whatever_the_random_source()
    {
        var router = Routers.Affinity();
        var candidates = Routers.Candidates(Routers.Instances(8));

        var first = router.Pick(candidates, Routers.Keyed("session-42", new Random(1)));
        for (var seed = 2; seed < 200; seed++)
        {
            Assert.Equal(first, router.Pick(candidates, Routers.Keyed("session-42", new Random(seed))));
        }

        // A fresh router (another client) sends it to the same instance: the ring depends on the ids alone.
        Assert.Equal(first, Routers.Affinity().Pick(candidates, Routers.Keyed("session-42")));
    }

    [Fact]
    public void Keys_spread_over_every_instance()
    {
        var router = Routers.Affinity();
        var candidates = Routers.Candidates(Routers.Instances(10));
        var counts = new int[10];

        for (var key = 0; key < 20_000; key++)
        {
            counts[router.Pick(candidates, Routers.Keyed($"user-{key}"))]++;
        }

        // 64 points per instance keep each share within a factor of about 1.5 of the mean (2,000).
        Assert.All(counts, c => Assert.InRange(c, 1_000, 3_200));
    }

    [Fact]
    public void An_instance_at_the_load_bound_is_skipped_for_the_next_on_the_ring_and_counted()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Affinity(new AffinityRouterOptions { LoadBound = 0.25 }, metrics: probe.Metrics);
        var instances = Routers.Instances(4);
        var home = router.Pick(Routers.Candidates(instances), Routers.Keyed("k"));
        Assert.Equal(1, probe.Of("affinity/hit"));

        // Home has 4 in flight, the others 1: capacity = ceil(1.25 × (7 + 1) / 4) = 3, so home is full.
        var loads = new[] { 1, 1, 1, 1 };
        loads[home] = 4;
        var next = router.Pick(Routers.Candidates(instances, loads), Routers.Keyed("k"));

        Assert.NotEqual(home, next);
        Assert.Equal(1, probe.Of("affinity/skip"));

        // The spill-over is stable (the next point clockwise), and the key goes home once the load falls.
        Assert.Equal(next, router.Pick(Routers.Candidates(instances, loads), Routers.Keyed("k", new Random(9))));
        Assert.Equal(home, router.Pick(Routers.Candidates(instances), Routers.Keyed("k")));
    }

    [Fact]
    public void The_bound_follows_epsilon()
    {
        var instances = Routers.Instances(4);
        var home = Routers.Affinity().Pick(Routers.Candidates(instances), Routers.Keyed("k"));
        var loads = new[] { 1, 1, 1, 1 };
        loads[home] = 4;

        // With ε = 1 the capacity is ceil(2 × 8 / 4) = 4: still full at 4, free at 3.
        var loose = Routers.Affinity(new AffinityRouterOptions { LoadBound = 1 });
        Assert.NotEqual(home, loose.Pick(Routers.Candidates(instances, loads), Routers.Keyed("k")));
        loads[home] = 3;
        Assert.Equal(home, loose.Pick(Routers.Candidates(instances, loads), Routers.Keyed("k")));
    }

    [Fact]
    public void An_instance_left_out_of_one_request_is_stepped_over_without_rebuilding_the_ring()
    {
        var router = Routers.Affinity();
        var instances = Routers.Instances(5);
        var home = router.Pick(Routers.Candidates(instances), Routers.Keyed("k"));
        var ring = router.RingLength(Routers.Endpoint);

        var without = instances.Where((_, i) => i != home).ToArray();
        var elsewhere = without[router.Pick(Routers.Candidates(without), Routers.Keyed("k"))];

        Assert.NotEqual(instances[home].Id, elsewhere.Id);
        Assert.Equal(ring, router.RingLength(Routers.Endpoint));
        Assert.Equal(home, router.Pick(Routers.Candidates(instances), Routers.Keyed("k")));
    }

    [Fact]
    public void Without_a_key_it_is_power_of_two_choices_deterministic_under_the_seed()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Affinity(metrics: probe.Metrics);
        var candidates = Routers.Candidates(Routers.Instances(6), 5, 0, 5, 5, 5, 5);

        var a = new Random(7);
        var b = new Random(7);
        var chosen = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var pick = router.Pick(candidates, Routers.Context(a));
            Assert.Equal(pick, Routers.Affinity().Pick(candidates, Routers.Context(b)));
            chosen.Add(pick);
        }

        // Instance 1 (nothing in flight) wins whenever it is drawn, which is often; the others only among themselves.
        Assert.Contains(1, chosen);
        Assert.True(chosen.Count(c => c == 1) > 10, $"instance 1 was picked {chosen.Count(c => c == 1)} times");
        Assert.Equal(50, probe.Of("affinity/fallback"));
    }

    [Fact]
    public void An_empty_key_is_no_key_and_one_candidate_is_the_answer()
    {
        var router = Routers.Affinity();
        Assert.Equal(0, router.Pick(Routers.Candidates(Routers.Instances(1)), Routers.Keyed("")));
        Assert.Equal(0, router.Pick(Routers.Candidates(Routers.Instances(1)), Routers.Keyed("x")));
        Assert.Equal(-1, router.Pick([], Routers.Keyed("x")));
    }
}
