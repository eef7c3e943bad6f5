using Plexus.Test.SharedLib;

namespace Plexus.Test.VersionB;

internal sealed class VersionRouter : IRouterStrategy
{
    // Says which copy of the shared library this plugin sees.
    public string Name => $"version-b:{Greeter.Greet()}:{typeof(Greeter).Assembly.GetName().Version}";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
