namespace Plexus.Router.Affinity;

/// <summary>The <c>reason</c> tag values of <c>plexus.router.decisions</c>.</summary>
internal static class RouteReason
{
    /// <summary>The instance the key or prefix points at took the request.</summary>
    public const string Hit = "hit";

    /// <summary>That instance was at the load bound; the request went to the next one.</summary>
    public const string Skip = "skip";

    /// <summary>Prefix only: no candidate holds the request's first block; the least loaded took it.</summary>
    public const string Miss = "miss";

    /// <summary>The request carried no key or blocks; power-of-two-choices picked.</summary>
    public const string Fallback = "fallback";
}
