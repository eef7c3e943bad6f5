namespace Plexus.Host.Status;

/// <summary><c>Plexus:Status</c>: the node's status server (health, metrics, JSON views and the status page).</summary>
internal sealed class StatusOptions
{
    public const string SectionName = "Plexus:Status";

    /// <summary>Whether <c>run</c> serves the status endpoints (<c>Plexus:Status:Enabled</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where to listen (<c>Plexus:Status:Url</c>); loopback by default, port 0 picks a free one.</summary>
    public string Url { get; set; } = "http://127.0.0.1:9480";
}
