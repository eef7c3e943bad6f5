namespace Plexus.Test.NativeRouter;

internal sealed class NativeRouter : IRouterStrategy
{
    // Computed by the native library, so reading it proves the library was found and called.
    public string Name => $"native-{NativeMethods.Add(40, 2)}";

    public int Pick(ReadOnlySpan<RouteCandidate> candidates, RouteContext context) => NativeMethods.Add(candidates.Length, -1);
}
