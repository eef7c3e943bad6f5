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

    /// <summary>
    /// Whether endpoints ask UCX to report a failed peer (<c>UCP_ERR_HANDLING_MODE_PEER</c>). Off by default: UCX 1.13's
    /// shared-memory and cma transports cannot do it, so with it on UCX moves every transfer over its tcp transport
    /// (measured here: 0.8 GB/s against 19 GB/s). Off, a transfer to a peer that died fails with UCX's error or within
    /// <see cref="TransferTimeout"/>. Turn it on across machines whose network transport (verbs, tcp) supports it and
    /// where a failed peer must be noticed at once.
    /// </summary>
    public bool PeerErrorHandling { get; set; }
}
