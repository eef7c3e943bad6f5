namespace Plexus.Hosting.Cluster;

/// <summary>
/// The seed was reached and answered a control request with an error (for example <c>lost</c>: a lease it no longer
/// holds). Unlike an unreachable seed, it says nothing about the seed's health.
/// </summary>
internal sealed class SeedRefusedException(string message) : PlexusException(PlexusErrorCode.Unavailable, message);
