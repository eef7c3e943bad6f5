namespace Plexus.Transport.Rdma;

/// <summary>Settings of the UCX bulk transport, bound from <c>Plexus:Bulk:Ucx</c>.</summary>
internal sealed class UcxBulkOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Bulk:Ucx";

    /// <summary>
    /// UCX settings passed through as they are, without the <c>UCX_</c> prefix: <c>TLS</c> (for example
    /// <c>posix,cma,self</c> here, <c>rc,ud,self</c> on InfiniBand), <c>NET_DEVICES</c>, … The environment's
    /// <c>UCX_*</c> variables apply too; these win.
    /// </summary>
    public Dictionary<string, string> Settings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long one transfer may take before it fails with Timeout (a peer that stopped answering). Default 30 s.</summary>
    public TimeSpan TransferTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
