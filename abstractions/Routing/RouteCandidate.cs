namespace Plexus;

/// <summary>An instance a request may go to, with what the client knows of its load.</summary>
/// <param name="Instance">The instance.</param>
/// <param name="InFlight">How many requests this client has in flight to it.</param>
public readonly record struct RouteCandidate(Instance Instance, int InFlight)
{
    /// <summary>The load the instance reports through discovery.</summary>
    public double Load => Instance.Load;
}
