namespace Plexus;

/// <summary>Well-known keys of <see cref="Instance.Metadata"/>.</summary>
public static class InstanceMetadataKeys
{
    /// <summary>The instance's load as an invariant-culture number; higher is busier.</summary>
    public const string Load = "load";

    /// <summary><c>true</c> while the instance takes no new requests.</summary>
    public const string Busy = "busy";

    /// <summary>A comma-separated list of capabilities, such as bulk transports the instance can use.</summary>
    public const string Capabilities = "capabilities";

    /// <summary>The id of the process (node) that hosts the instance.</summary>
    public const string Node = "node";

    /// <summary>The bulk transport the instance pulls and offers large payloads with, such as <c>ucx</c>.</summary>
    public const string Bulk = "bulk";

    /// <summary>What the instance's bulk transport runs on (<see cref="IBulkTransport.Details"/>), for people reading it.</summary>
    public const string BulkDetails = "bulk-details";
}
