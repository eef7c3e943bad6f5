using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// A scripted stand-in for nats-server, for behaviour a real one will not show on demand: it sends INFO, answers a
/// set number of PINGs, then goes silent; or answers CONNECT with -ERR.
/// </summary>
internal sealed class FakeNatsServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public FakeNatsServer(int answerPings, string? errOnConnect = null)
    {
        _listener.Start();
        _serving = ServeAsync(answerPings, errOnConnect);
    }

    public Uri Url => new($"nats://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(int answerPings, string? errOnConnect)
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("INFO {\"server_id\":\"FAKE\",\"version\":\"2.9.0\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n"), _stop.Token);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            var answered = 0;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("CONNECT", StringComparison.Ordinal) && errOnConnect is not null)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"-ERR '{errOnConnect}'\r\n"), _stop.Token);
                    break;
                }

                // The handshake's PING is always answered; after it, only as many as asked for.
                if (line == "PING" && (answered++ == 0 || answered <= answerPings + 1))
                {
                    await stream.WriteAsync("PONG\r\n"u8.ToArray(), _stop.Token);
                }
            }
        }
    }
}
