namespace Plexus;

/// <summary>
/// A named transport. The host picks one by <see cref="Name"/> from configuration
/// (<c>Plexus:RequestPlane:Transport</c>); the transport reads its own settings from <c>Plexus:Transports:&lt;Name&gt;</c>.
/// </summary>
public interface ITransportFactory
{
    /// <summary>The transport's name, such as <c>tcp</c>; also the scheme of its addresses.</summary>
    string Name { get; }

    /// <summary>Creates the request-plane server a process shares across all its endpoints.</summary>
    /// <returns>A server that is not yet started.</returns>
    IRequestPlaneServer CreateServer();

    /// <summary>Creates a request-plane client; one per process is enough and it is safe for concurrent use.</summary>
    /// <returns>The client.</returns>
    IRequestPlaneClient CreateClient();
}
