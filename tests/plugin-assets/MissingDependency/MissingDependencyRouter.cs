using Plexus.Test.MissingLib;

namespace Plexus.Test.MissingDependency;

internal sealed class MissingDependencyRouter : IRouterStrategy
{
    public string Name => "missing-dependency-" + Missing.Value;

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
