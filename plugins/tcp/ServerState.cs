namespace Plexus.Transport.Tcp;

/// <summary>Where a server is in its life.</summary>
internal enum ServerState
{
    Created,
    Running,
    Draining,
    Closed,
}
