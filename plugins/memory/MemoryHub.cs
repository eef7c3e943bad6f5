using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Plexus.Transport.Memory;

/// <summary>
/// The process-wide "network" of the memory transport: started servers by id. A server's address is
/// <c>memory://&lt;id&gt;</c>, so a client finds the server by the address's host. A network transport would
/// open a connection here instead.
/// </summary>
internal static class MemoryHub
{
    private static readonly ConcurrentDictionary<string, MemoryServer> Servers = new(StringComparer.OrdinalIgnoreCase);
    private static long _lastId;

    /// <summary>Picks an id no other server in this process has; lowercase, so it survives <see cref="Uri"/> normalisation.</summary>
    /// <returns>The id.</returns>
    public static string NewServerId() =>
        $"server-{Interlocked.Increment(ref _lastId).ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Makes a started server reachable.</summary>
    /// <param name="id">The server's id.</param>
    /// <param name="server">The server.</param>
    public static void Add(string id, MemoryServer server)
    {
        if (!Servers.TryAdd(id, server))
        {
            throw new InvalidOperationException($"A memory server with id '{id}' is already running.");
        }
    }

    /// <summary>Makes a server unreachable; new requests to its address fail as unavailable.</summary>
    /// <param name="id">The server's id.</param>
    /// <param name="server">The server, so that only this one is removed.</param>
    public static void Remove(string id, MemoryServer server) =>
        Servers.TryRemove(new KeyValuePair<string, MemoryServer>(id, server));

    /// <summary>Finds the server behind an address.</summary>
    /// <param name="address">A <c>memory://</c> address.</param>
    /// <param name="server">The server, when one is running there.</param>
    /// <returns>Whether a server is running at the address.</returns>
    public static bool TryFind(Uri address, [NotNullWhen(true)] out MemoryServer? server) =>
        Servers.TryGetValue(address.Host, out server);
}
