namespace Plexus.Test.MissingNative;

internal sealed class MissingNativeRouter : IRouterStrategy
{
    private readonly int probe;

    public MissingNativeRouter()
    {
        probe = NativeMethods.Probe();
    }

    public string Name => $"missing-native-{probe}";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => 0;
}
