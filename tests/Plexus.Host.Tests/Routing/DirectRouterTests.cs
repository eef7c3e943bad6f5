using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class DirectRouterTests
{
    [Fact]
    public void Name_is_direct()
    {
        Assert.Equal("direct", new DirectRouter().Name);
    }

    [Fact]
    public void Picks_the_targeted_instance()
    {
        var candidates = Candidates.Equal(4);
        var router = new DirectRouter();

        for (var i = 0; i < candidates.Length; i++)
        {
            Assert.Equal(i, router.Pick(candidates, Candidates.Context(target: candidates[i].Instance.Id)));
        }
    }

    [Fact]
    public void Gives_minus_one_when_the_target_is_not_a_candidate()
    {
        Assert.Equal(-1, new DirectRouter().Pick(Candidates.Equal(4), Candidates.Context(target: new InstanceId(99))));
    }

    [Fact]
    public void Gives_minus_one_without_a_target()
    {
        Assert.Equal(-1, new DirectRouter().Pick(Candidates.Equal(4), Candidates.Context(target: null)));
    }

    [Fact]
    public void A_single_candidate_is_picked_only_when_targeted()
    {
        var candidates = Candidates.Equal(1);
        var router = new DirectRouter();

        Assert.Equal(0, router.Pick(candidates, Candidates.Context(target: candidates[0].Instance.Id)));
        Assert.Equal(-1, router.Pick(candidates, Candidates.Context(target: new InstanceId(12345))));
    }

    [Fact]
    public void Does_not_draw_from_the_random_source()
    {
        var candidates = Candidates.Equal(3);
        var context = Candidates.Context(new NoDrawRandom()) with { TargetInstance = candidates[2].Instance.Id };
        Assert.Equal(2, new DirectRouter().Pick(candidates, context));
    }
}
