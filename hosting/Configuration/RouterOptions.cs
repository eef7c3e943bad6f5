namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:Router</c>: how a client picks an instance.</summary>
internal sealed class RouterOptions
{
    /// <summary>The router strategy's name (<c>Plexus:Router:Strategy</c>).</summary>
    public string Strategy { get; set; } = "round-robin";

    /// <summary>In-flight requests per instance above which it counts as busy; 0 means no limit.</summary>
    public int MaxInFlightPerInstance { get; set; }

    /// <summary>How many other instances a request may be retried on when it failed before any response.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>How long an instance that failed to answer is avoided.</summary>
    public TimeSpan UnhealthyFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an instance that answered "overloaded" counts as busy.</summary>
    public TimeSpan BusyFor { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a call waits for an instance to appear once discovery has answered that its endpoint has none.</summary>
    public TimeSpan DiscoveryWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a call without a timeout of its own waits for discovery's first answer about its endpoint; a call with a
    /// timeout waits as long as that allows. Long, because a busy machine can take seconds to answer.
    /// </summary>
    public TimeSpan DiscoveryAnswerWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Seeds the router's random source, for reproducible routing; random when empty.</summary>
    public int? Seed { get; set; }
}
