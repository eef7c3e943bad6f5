using Plexus.Hosting.Routing;

namespace Plexus.Host.Tests.Routing;

public sealed class RouterAllocationTests
{
    public static TheoryData<string> Strategies() =>
        new() { RoundRobinRouter.StrategyName, RandomRouter.StrategyName, DirectRouter.StrategyName, PowerOfTwoChoicesRouter.StrategyName, LeastLoadedRouter.StrategyName };

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Picking_allocates_nothing(string name)
    {
        IRouterStrategy router = name switch
        {
            RoundRobinRouter.StrategyName => new RoundRobinRouter(),
            RandomRouter.StrategyName => new RandomRouter(),
            DirectRouter.StrategyName => new DirectRouter(),
            PowerOfTwoChoicesRouter.StrategyName => new PowerOfTwoChoicesRouter(),
            _ => new LeastLoadedRouter(),
        };
        var candidates = Candidates.Equal(8);
        var context = Candidates.Context(seed: 1, target: candidates[5].Instance.Id);
        var sink = 0;
        for (var i = 0; i < 100; i++)
        {
            sink += router.Pick(candidates, context);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            sink += router.Pick(candidates, context);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(sink >= 0);
    }
}
