using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>Where an accepted connection runs: on a thread of its own in low-latency mode, within its cap; on the pool otherwise.</summary>
internal sealed partial class TcpServer
{
    private void StartConnection(Socket socket)
    {
        // On its own thread the handshake's reads wait in the kernel, so the socket never meets the runtime's socket
        // engine (see PollingNetworkStream), and the thread goes on as the connection's reader.
        if (_options.LowLatency && ConnectionThreads.TryStart("Plexus TCP server connection", () => AcceptConnectionAsync(socket).GetAwaiter().GetResult(), _options.LowLatencyMaxConnections))
        {
            return;
        }

        _ = Task.Run(() => AcceptConnectionAsync(socket));
    }
}
