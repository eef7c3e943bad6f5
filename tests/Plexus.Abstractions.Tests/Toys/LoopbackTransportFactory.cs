using System.Collections.Concurrent;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>
/// A transport that carries requests inside one process: servers register in the factory by address and clients
/// find them there. Written only against the contracts, as a third party would.
/// </summary>
internal sealed class LoopbackTransportFactory : ITransportFactory
{
    private readonly ConcurrentDictionary<Uri, LoopbackServer> _servers = new();
    private int _nextServer;

    public LoopbackTransportFactory(int responseCapacity = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(responseCapacity, 1);
        ResponseCapacity = responseCapacity;
    }

    public string Name => "loopback";

    /// <summary>How many ended response messages may wait for the client before the handler's flush waits.</summary>
    public int ResponseCapacity { get; }

    public IRequestPlaneServer CreateServer() => new LoopbackServer(this);

    public IRequestPlaneClient CreateClient() => new LoopbackClient(this);

    internal Uri Bind(LoopbackServer server)
    {
        var address = new Uri($"{Name}://server-{Interlocked.Increment(ref _nextServer)}");
        _servers[address] = server;
        return address;
    }

    internal void Unbind(Uri address) => _servers.TryRemove(address, out _);

    internal LoopbackServer? Find(Uri address) => _servers.TryGetValue(address, out var server) ? server : null;
}
