namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:RequestPlane</c>: the transports and codec every request of this process uses.</summary>
internal sealed class RequestPlaneOptions
{
    /// <summary>The transport's name (<c>Plexus:RequestPlane:Transport</c>): a node on one transport.</summary>
    public string Transport { get; set; } = "memory";

    /// <summary>
    /// The transports' names in this node's order of preference (<c>Plexus:RequestPlane:Transports</c>, a list or one
    /// comma-separated value): the node serves its endpoints on every one, and its client reaches an instance over the
    /// first of them that the instance offers. Replaces <see cref="Transport"/> when set.
    /// </summary>
    public List<string> Transports { get; set; } = [];

    /// <summary>The codec's name (<c>Plexus:RequestPlane:Codec</c>), for transports that frame bytes.</summary>
    public string Codec { get; set; } = "twopart";

    /// <summary>How long a call waits when it sets no deadline of its own; zero means no limit.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>What <see cref="TransportSelection"/> found in the configuration; unset when the options were made in code.</summary>
    internal TransportSelection? Selection { get; set; }

    /// <summary>The transports this node serves on, in its order of preference.</summary>
    public IReadOnlyList<string> ServingTransports => Selection?.Names ?? (Transports.Count > 0 ? Transports : [Transport]);

    /// <summary>The key that holds <see cref="ServingTransports"/>, for messages.</summary>
    public string ServingTransportsKey => Selection?.Key ?? (Transports.Count > 0 ? TransportSelection.ListKey : TransportSelection.SingleKey);
}
