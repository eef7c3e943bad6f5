namespace Plexus.Discovery.Etcd;

/// <summary>
/// Settings of the <c>etcd</c> discovery provider, bound from <c>Plexus:Discovery:Etcd</c> and checked when the host starts
/// (<see cref="EtcdDiscoveryOptionsValidator"/>).
/// </summary>
internal sealed class EtcdDiscoveryOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Discovery:Etcd";

    /// <summary>The endpoint used when <see cref="Endpoints"/> names none.</summary>
    public const string DefaultEndpoint = "http://127.0.0.1:2379";

    /// <summary>
    /// The etcd members' client URLs (<c>http://host:port</c>, or <c>https://</c> for TLS; one scheme for all). Requests are
    /// spread over the members that answer and fail over to the others. An item may hold several URLs separated by commas,
    /// and so may the key itself (<c>Plexus:Discovery:Etcd:Endpoints=http://a:2379,http://b:2379</c>). Default
    /// <c>http://127.0.0.1:2379</c>.
    /// </summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>
    /// The key prefix every instance is written under: <c>&lt;Prefix&gt;/&lt;namespace&gt;/&lt;component&gt;/&lt;endpoint&gt;/&lt;id&gt;</c>.
    /// Nodes that should see each other use the same prefix. Default <c>/plexus</c>.
    /// </summary>
    public string Prefix { get; set; } = "/plexus";

    /// <summary>
    /// The time to live of this node's etcd lease, kept alive every third of it; the node's instances vanish this long
    /// after the node stops renewing (a crash, a partition). Whole seconds (etcd's unit; rounded up), at least 2 s. Default 10 s.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one request to etcd may take (connecting included) before it counts as failed and is retried with
    /// backoff. Default 5 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The etcd user, when etcd has authentication enabled; needs <see cref="Password"/>.</summary>
    public string? User { get; set; }

    /// <summary>The etcd user's password.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// PEM file of the CA certificates etcd's server certificate must chain to (with <c>https://</c> endpoints). When not
    /// set, the system's trust store is used.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate presented to etcd (its <c>--client-cert-auth</c>); needs <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The full configuration key of a setting, for messages.</summary>
    /// <param name="name">The setting's name, such as <c>LeaseTtl</c>.</param>
    /// <returns>The key, such as <c>Plexus:Discovery:Etcd:LeaseTtl</c>.</returns>
    public static string Key(string name) => $"{SectionName}:{name}";

    /// <summary>The endpoints as URLs, comma-separated items split, blanks dropped; the default when none is set.</summary>
    /// <returns>The endpoint strings.</returns>
    public IReadOnlyList<string> EndpointList()
    {
        var list = Endpoints
            .SelectMany(e => (e ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        return list.Count == 0 ? [DefaultEndpoint] : list;
    }

    /// <summary>The prefix without a trailing <c>/</c>.</summary>
    public string NormalizedPrefix => Prefix.TrimEnd('/');

    /// <summary>The lease time to live in etcd's unit, whole seconds, rounded up.</summary>
    public long LeaseTtlSeconds => (long)Math.Ceiling(LeaseTtl.TotalSeconds);
}
