namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>
/// One transport this node serves on: its server and its own dispatcher (the same handlers, counted under the
/// transport's name), so that each transport drains what it admitted.
/// </summary>
/// <param name="Transport">The transport's name.</param>
/// <param name="Server">Its started server.</param>
/// <param name="Dispatcher">The dispatcher the server hands requests to.</param>
internal sealed record Listener(string Transport, IRequestPlaneServer Server, RequestDispatcher Dispatcher)
{
    /// <summary>The address the server advertises.</summary>
    public Uri Address => Server.Address;

    /// <summary>The server's health now.</summary>
    public TransportHealth Health => Server.Health;
}
