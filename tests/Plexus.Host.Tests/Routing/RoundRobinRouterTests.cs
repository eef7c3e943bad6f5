using System.Reflection;
using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class RoundRobinRouterTests
{
    [Fact]
    public void Name_is_round_robin()
    {
        Assert.Equal("round-robin", new RoundRobinRouter().Name);
    }

    [Fact]
    public void Cycles_through_the_candidates_exactly_in_order()
    {
        var router = new RoundRobinRouter();
        var candidates = Candidates.Equal(3);
        var context = Candidates.Context();

        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(i % 3, router.Pick(candidates, context));
        }
    }

    [Fact]
    public void Does_not_draw_from_the_random_source()
    {
        var router = new RoundRobinRouter();
        Assert.Equal(0, router.Pick(Candidates.Equal(2), Candidates.Context(new NoDrawRandom())));
    }

    [Fact]
    public void A_single_candidate_is_always_picked()
    {
        var router = new RoundRobinRouter();
        var candidates = Candidates.Equal(1);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, router.Pick(candidates, Candidates.Context()));
        }
    }

    [Fact]
    public void Stays_in_range_when_the_candidate_list_shrinks()
    {
        var router = new RoundRobinRouter();
        var context = Candidates.Context();
        for (var i = 0; i < 7; i++)
        {
            router.Pick(Candidates.Equal(10), context);
        }

        for (var i = 0; i < 10; i++)
        {
            Assert.InRange(router.Pick(Candidates.Equal(2), context), 0, 1);
        }
    }

    [Fact]
    public void Stays_in_range_after_the_counter_wraps()
    {
        var router = new RoundRobinRouter();
        var candidates = Candidates.Equal(3);
        router.Pick(candidates, Candidates.Context());
        var counters = (System.Collections.Concurrent.ConcurrentDictionary<EndpointAddress, System.Runtime.CompilerServices.StrongBox<int>>)
            typeof(RoundRobinRouter).GetField("_counters", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(router)!;
        counters[Candidates.Context().Endpoint].Value = int.MaxValue - 2;

        for (var i = 0; i < 10; i++)
        {
            Assert.InRange(router.Pick(candidates, Candidates.Context()), 0, 2);
        }
    }

    [Fact]
    public void Each_endpoint_takes_its_own_turns()
    {
        var router = new RoundRobinRouter();
        var candidates = Candidates.Equal(2);
        var a = Candidates.Context() with { Endpoint = EndpointAddress.Parse("ns/comp/a") };
        var b = Candidates.Context() with { Endpoint = EndpointAddress.Parse("ns/comp/b") };

        // Interleaved calls to two endpoints: each still alternates 0, 1, 0, 1 over its own candidates.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(i % 2, router.Pick(candidates, a));
            Assert.Equal(i % 2, router.Pick(candidates, b));
        }
    }

    [Fact]
    public void Concurrent_picks_spread_exactly_evenly()
    {
        const int threads = 4;
        const int picksPerThread = 25_000;
        var router = new RoundRobinRouter();
        var candidates = Candidates.Equal(5);
        var counts = new int[candidates.Length];
        using var start = new Barrier(threads);

        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                var context = Candidates.Context();
                var local = new int[candidates.Length];
                start.SignalAndWait();
                for (var i = 0; i < picksPerThread; i++)
                {
                    local[router.Pick(candidates, context)]++;
                }

                for (var c = 0; c < local.Length; c++)
                {
                    Interlocked.Add(ref counts[c], local[c]);
                }
            });
            workers[t].Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        // Every pick takes a distinct ticket, so the total splits exactly, however the threads interleave.
        Assert.All(counts, count => Assert.Equal(threads * picksPerThread / candidates.Length, count));
    }
}
