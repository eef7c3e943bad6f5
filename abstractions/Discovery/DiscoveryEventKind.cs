namespace Plexus;

/// <summary>What happened to an instance.</summary>
public enum DiscoveryEventKind
{
    /// <summary>It appeared.</summary>
    Added = 0,

    /// <summary>Its metadata changed.</summary>
    Updated = 1,

    /// <summary>It went away: unregistered, or its lease expired.</summary>
    Removed = 2,
}
