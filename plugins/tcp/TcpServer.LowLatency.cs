using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>Where an accepted connection runs: on a thread of its own in low-latency mode, within its cap; on the pool otherwise.</summary>
internal sealed partial class TcpServer
{
    private int _capReported;

    private void StartConnection(Socket socket)
    {
        if (_options.LowLatency)
        {
            // On its own thread the handshake's reads wait in the kernel, so the socket never meets the runtime's socket
            // engine (see PollingNetworkStream), and the thread goes on as the connection's reader.
            if (ConnectionThreads.TryStart("Plexus TCP server connection", () => AcceptConnectionAsync(socket).GetAwaiter().GetResult(), _options.LowLatencyMaxConnections, _logger))
            {
                return;
            }

            if (Interlocked.Exchange(ref _capReported, 1) == 0)
            {
                TcpLog.LowLatencyCapReached(_logger, ConnectionThreads.Running, TcpTransportOptions.Key(nameof(TcpTransportOptions.LowLatencyMaxConnections)), "server");
            }
        }

        _ = Task.Run(() => AcceptConnectionAsync(socket));
    }
}
