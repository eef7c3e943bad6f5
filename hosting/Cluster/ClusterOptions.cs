namespace Plexus.Hosting.Cluster;

/// <summary><c>Plexus:Cluster</c>: a secure cluster formed by a seed node that issues every member a certificate.</summary>
internal sealed class ClusterOptions
{
    public const string SectionName = "Plexus:Cluster";

    /// <summary>This node is the seed: it keeps the cluster CA and admits nodes that know the token.</summary>
    public bool Seed { get; set; }

    /// <summary>The seed's join address (<c>host:port</c>); this node joins the cluster there.</summary>
    public string? Join { get; set; }

    /// <summary>The cluster token: 32 bytes as 64 hex digits. A seed without one makes one and prints it once.</summary>
    public string? Token { get; set; }

    /// <summary>Where the seed listens for nodes joining and for members (<c>host:port</c>; loopback unless said otherwise).</summary>
    public string Listen { get; set; } = "127.0.0.1:7300";

    /// <summary>The seed's join address as other nodes reach it, for the join line it prints; default: <see cref="Listen"/>.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// The seed's state directory: its CA key and certificate and the token, files with permissions 0600, so that a
    /// restarted seed keeps its cluster. Without it the CA lives as long as the process.
    /// </summary>
    public string? StatePath { get; set; }

    /// <summary>How long the cluster CA is valid; short-lived by design (a new cluster after that).</summary>
    public TimeSpan CaLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a member's certificate is valid; it is renewed after two thirds of that.</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A member not heard from within this time is removed from the member table.</summary>
    public TimeSpan MemberLease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a joining node keeps trying to reach the seed before it gives up.</summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether this node is configured to be in a cluster.</summary>
    public bool IsConfigured => Seed || !string.IsNullOrWhiteSpace(Join);

    public static string Key(string name) => $"{SectionName}:{name}";
}
