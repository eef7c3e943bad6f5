using System.Net;
using System.Net.Sockets;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Opening a connection in low-latency mode: on a connection thread of its own (within its cap), where the connect and
/// the handshake wait in the kernel and never meet the runtime's socket engine (see <see cref="PollingNetworkStream"/>),
/// and which goes on as the connection's reader.
/// </summary>
internal sealed partial class TcpClient
{
    private int _capReported;

    private Task<ClientSession> OpenOnConnectionThreadAsync(Uri address)
    {
        var opened = new TaskCompletionSource<ClientSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Open()
        {
            try
            {
                opened.TrySetResult(OpenAsync(address).GetAwaiter().GetResult());
            }
            catch (Exception exception)
            {
                opened.TrySetException(exception);
            }
        }

        if (ConnectionThreads.TryStart("Plexus TCP client connection", Open, _options.LowLatencyMaxConnections, _logger))
        {
            return opened.Task;
        }

        if (Interlocked.Exchange(ref _capReported, 1) == 0)
        {
            TcpLog.LowLatencyCapReached(_logger, ConnectionThreads.Running, TcpTransportOptions.Key(nameof(TcpTransportOptions.LowLatencyMaxConnections)), "client");
        }

        return OpenAsync(address);
    }

    // A blocking connect: the socket is still blocking here, so the kernel does the waiting. The timeout closes the
    // socket, which ends the connect; the caller reports it as the timeout it is.
    private static void ConnectOnConnectionThread(Socket socket, IPAddress? ip, string host, int port, CancellationToken timeout)
    {
        using (timeout.UnsafeRegister(static state => ((Socket)state!).Dispose(), socket))
        {
            try
            {
                if (ip is not null)
                {
                    socket.Connect(new IPEndPoint(ip, port));
                }
                else
                {
                    socket.Connect(host, port);
                }
            }
            catch (Exception exception) when (timeout.IsCancellationRequested && exception is SocketException or ObjectDisposedException)
            {
                throw new OperationCanceledException(timeout);
            }
        }
    }
}
