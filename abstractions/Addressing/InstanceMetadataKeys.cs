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
}
