namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:Server</c>: the serving side of this process.</summary>
internal sealed class ServerOptions
{
    /// <summary>Whether this process serves its registered endpoints (<c>Plexus:Server:Enabled</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long shutdown waits for in-flight requests before aborting them (<c>Plexus:Server:DrainTimeout</c>).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
