namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:Bulk</c>: whether large payloads move out of band, and the bounds of doing so.</summary>
internal sealed class BulkOptions
{
    /// <summary>The bulk transport's name, such as <c>ucx</c>; empty (the default) keeps every payload inline.</summary>
    public string Transport { get; set; } = string.Empty;

    /// <summary>A request payload or response message larger than this many bytes moves by bulk transfer. Default 1 MiB.</summary>
    public int Threshold { get; set; } = 1 << 20;

    /// <summary>The largest payload or message this node pulls by bulk transfer (it allocates that much). Default 1 GiB.</summary>
    public int MaxBytes { get; set; } = 1 << 30;

    /// <summary>How long a response message offered by bulk transfer is kept for its client to pull. Default 30 s.</summary>
    public TimeSpan HoldTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many bytes of registered buffers are kept for reuse; larger ones are released after use. Default 256 MiB.</summary>
    public long PoolBytes { get; set; } = 256L << 20;

    /// <summary>After a bulk transfer with a peer failed, how long payloads to that peer go inline before bulk is tried again. Default 60 s.</summary>
    public TimeSpan InlineAfterFailure { get; set; } = TimeSpan.FromSeconds(60);
}
