namespace Plexus.Hosting.Configuration;

/// <summary><c>Plexus:RequestPlane</c>: the transport and codec every request of this process uses.</summary>
internal sealed class RequestPlaneOptions
{
    /// <summary>The transport's name (<c>Plexus:RequestPlane:Transport</c>).</summary>
    public string Transport { get; set; } = "memory";

    /// <summary>The codec's name (<c>Plexus:RequestPlane:Codec</c>), for transports that frame bytes.</summary>
    public string Codec { get; set; } = "twopart";

    /// <summary>How long a call waits when it sets no deadline of its own; zero means no limit.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.Zero;
}
