using Microsoft.Extensions.Time.Testing;
using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests;

public sealed class PrefixRouterTests
{
    private static readonly ulong[] Request = Routers.Chain("system prompt + question", 6);

    /// <summary>A holds the first four blocks, B the first two, C none of them.</summary>
    private static Instance[] Holders() =>
    [
        Routers.WithBlocks(Routers.Instance(1), Request[..4]),
        Routers.WithBlocks(Routers.Instance(2), Request[..2]),
        Routers.WithBlocks(Routers.Instance(3), Routers.Chain("another prompt", 5)),
    ];

    [Fact]
    public void The_longest_overlap_wins_and_counts_as_a_hit()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Prefix(metrics: probe.Metrics);

        Assert.Equal(0, router.Pick(Routers.Candidates(Holders()), Routers.Blocks(Request)));
        Assert.Equal(1, probe.Of("prefix/hit"));

        // The request's first two blocks alone: A and B tie at 2 and the seeded draw decides, the same way each time.
        var tie = router.Pick(Routers.Candidates(Holders()), Routers.Blocks(Request[..2], new Random(5)));
        Assert.InRange(tie, 0, 1);
        Assert.Equal(tie, Routers.Prefix().Pick(Routers.Candidates(Holders()), Routers.Blocks(Request[..2], new Random(5))));
    }

    [Fact]
    public void Load_is_weighed_against_overlap()
    {
        var options = new AffinityRouterOptions { LoadBound = 100, OverlapWeight = 1, LoadWeight = 1 };

        // A: 4 − 3 = 1; B: 2 − 0 = 2; C: 0 − 0 = 0.
        Assert.Equal(1, Routers.Prefix(options).Pick(Routers.Candidates(Holders(), 3, 0, 0), Routers.Blocks(Request)));

        // A block is worth ten requests in flight: A wins again (40 − 3).
        var heavy = new AffinityRouterOptions { LoadBound = 100, OverlapWeight = 10, LoadWeight = 1 };
        Assert.Equal(0, Routers.Prefix(heavy).Pick(Routers.Candidates(Holders(), 3, 0, 0), Routers.Blocks(Request)));
    }

    [Fact]
    public void When_every_least_loaded_candidate_is_a_holder_all_are_scored()
    {
        // B (a holder) alone has nothing in flight, so no block-less candidate is among the least loaded.
        // A: 4 − 1 = 3, B: 2 − 0 = 2, C: 0 − 3 = −3.
        var options = new AffinityRouterOptions { LoadBound = 100 };
        Assert.Equal(0, Routers.Prefix(options).Pick(Routers.Candidates(Holders(), 1, 0, 3), Routers.Blocks(Request)));

        // Holders and a block-less candidate tie when a block is worth exactly one request in flight: each is drawn.
        var seen = new HashSet<int>();
        for (var seed = 0; seed < 40; seed++)
        {
            seen.Add(Routers.Prefix(options).Pick(Routers.Candidates(Holders(), 1, 1, 0), Routers.Blocks(Request[..1], new Random(seed))));
        }

        Assert.Equal([0, 1, 2], seen.Order());
    }

    [Fact]
    public void A_holder_past_the_load_bound_is_skipped_and_counted()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Prefix(new AffinityRouterOptions { LoadBound = 0.25, OverlapWeight = 100 }, metrics: probe.Metrics);

        // Total 3 in flight: capacity = ceil(1.25 × 4 / 3) = 2, and A has 3.
        var chosen = router.Pick(Routers.Candidates(Holders(), 3, 0, 0), Routers.Blocks(Request));

        Assert.Equal(1, chosen);
        Assert.Equal(1, probe.Of("prefix/skip"));
    }

    [Fact]
    public void Overlap_counts_blocks_from_the_start_without_a_gap()
    {
        // A holds blocks 0, 1, 3, 4 and 5 (2 was evicted): overlap 2. B holds 0, 1 and 2: overlap 3.
        Instance[] instances =
        [
            Routers.WithBlocks(Routers.Instance(1), Request[0], Request[1], Request[3], Request[4], Request[5]),
            Routers.WithBlocks(Routers.Instance(2), Request[..3]),
        ];

        Assert.Equal(1, Routers.Prefix().Pick(Routers.Candidates(instances), Routers.Blocks(Request)));
    }

    [Fact]
    public void Without_overlap_the_least_loaded_wins_ties_broken_by_the_seed()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Prefix(metrics: probe.Metrics);
        var unknown = Routers.Chain("never seen", 3);
        var candidates = Routers.Candidates(Routers.Instances(6), 2, 0, 2, 0, 2, 0);

        var seen = new HashSet<int>();
        for (var seed = 0; seed < 60; seed++)
        {
            var pick = router.Pick(candidates, Routers.Blocks(unknown, new Random(seed)));
            Assert.Equal(pick, router.Pick(candidates, Routers.Blocks(unknown, new Random(seed))));
            seen.Add(pick);
        }

        Assert.Equal([1, 3, 5], seen.Order());
        Assert.Equal(120, probe.Of("prefix/miss"));
    }

    [Fact]
    public void Without_blocks_it_falls_back_to_two_choices()
    {
        using var probe = new DecisionProbe();
        var router = Routers.Prefix(metrics: probe.Metrics);
        var candidates = Routers.Candidates(Holders(), 9, 9, 0);

        var pick = router.Pick(candidates, Routers.Context(new Random(3)));

        Assert.Equal(pick, Routers.Prefix().Pick(candidates, Routers.Context(new Random(3))));
        Assert.Equal(1, probe.Of("prefix/fallback"));
        // A header with nothing readable is no header.
        Assert.InRange(router.Pick(candidates, Routers.Context(new Random(3), AffinityHeaders.PrefixBlocks, "not hex")), 0, 2);
        Assert.Equal(2, probe.Of("prefix/fallback"));
    }

    [Fact]
    public void An_update_replaces_the_set_so_stale_and_lost_updates_only_cost_quality()
    {
        var router = Routers.Prefix();
        var a = Routers.Instance(1);
        var b = Routers.Instance(2);

        // A published the blocks; B has nothing.
        Assert.Equal(0, router.Pick(Routers.Candidates([Routers.WithBlocks(a, Request), b]), Routers.Blocks(Request)));

        // A evicted them but its update is not here yet (stale): the request still goes to A, which serves it anyway.
        Assert.Equal(0, router.Pick(Routers.Candidates([Routers.WithBlocks(a, Request), b]), Routers.Blocks(Request)));

        // An update was lost, then the next arrives: it carries the whole set (B now holds them, A nothing).
        var aLater = Routers.WithBlocks(a);
        var bLater = Routers.WithBlocks(b, Request);
        Assert.Equal(1, router.Pick(Routers.Candidates([aLater, bLater]), Routers.Blocks(Request)));
        Assert.Equal(Request.Length, router.IndexBlocks(Routers.Endpoint));
    }

    [Fact]
    public void A_malformed_set_keeps_what_came_before_the_bad_entry()
    {
        var router = Routers.Prefix();
        var text = PrefixBlocks.Format(Request[..2]) + ",zz-not-hex," + PrefixBlocks.Format(Request[2..]);
        Instance[] instances = [Routers.Instance(1, text), Routers.Instance(2)];

        Assert.Equal(0, router.Pick(Routers.Candidates(instances), Routers.Blocks(Request)));
        Assert.Equal(2, router.IndexBlocks(Routers.Endpoint));
    }

    [Fact]
    public void A_vanished_instance_is_never_chosen_and_is_dropped_from_the_index_after_DropAfter()
    {
        using var probe = new DecisionProbe();
        var time = new FakeTimeProvider();
        var router = Routers.Prefix(new AffinityRouterOptions { DropAfter = TimeSpan.FromSeconds(30) }, time, probe.Metrics);
        var holders = Holders();
        router.Pick(Routers.Candidates(holders), Routers.Blocks(Request));
        Assert.True(router.Indexes(Routers.Endpoint, holders[0].Id));
        var indexed = router.IndexBlocks(Routers.Endpoint);
        Assert.Equal(indexed, probe.IndexBlocks());

        // Left out of the candidates (busy, or gone): never chosen, but a short absence keeps its entries.
        var rest = holders[1..];
        Assert.Equal(0, router.Pick(Routers.Candidates(rest), Routers.Blocks(Request)));
        time.Advance(TimeSpan.FromSeconds(10));
        router.Pick(Routers.Candidates(rest), Routers.Blocks(Request));
        Assert.True(router.Indexes(Routers.Endpoint, holders[0].Id));

        // Missing past DropAfter: dropped, and the index (and its gauge) shrink by the blocks only it held.
        time.Advance(TimeSpan.FromSeconds(21));
        router.Pick(Routers.Candidates(rest), Routers.Blocks(Request));
        Assert.False(router.Indexes(Routers.Endpoint, holders[0].Id));
        Assert.Equal(indexed - 2, router.IndexBlocks(Routers.Endpoint));
        Assert.Equal(indexed - 2, probe.IndexBlocks());

        // Back again (a restart under the same id): its published set is read afresh.
        Assert.Equal(0, router.Pick(Routers.Candidates(holders), Routers.Blocks(Request)));
        Assert.True(router.Indexes(Routers.Endpoint, holders[0].Id));
    }
}
