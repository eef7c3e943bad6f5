namespace Plexus.Test.ContractsVersion;

// Built against another version of the contracts; its name says which, so a test can tell that it really runs.
internal sealed class ContractsVersionRouter : IRouterStrategy
{
    public string Name => $"contracts-{typeof(ContractsVersionRouter).Assembly.GetName().Name}";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
