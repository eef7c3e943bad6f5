using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Plexus;
using Plexus.Transport.Streams;

namespace Acme.Uds;

/// <summary>Requests over Unix domain sockets, one connection per request; addresses are <c>uds:///path/to/socket</c>.</summary>
/// <param name="options">The settings; a test passes <c>Options.Create(new UdsTransportOptions { … })</c>.</param>
public sealed class UdsTransportFactory(IOptions<UdsTransportOptions> options) : ITransportFactory
{
    /// <inheritdoc />
    public string Name => "uds";

    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() => new UdsServer(options.Value);

    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() => new StreamRequestClient(ConnectAsync, Protocol(options.Value));

    // The stream protocol's limits, with the key a person raises named in the errors.
    internal static StreamRequestOptions Protocol(UdsTransportOptions options) =>
        new() { MaxPayloadBytes = options.MaxPayloadBytes, PayloadLimitSetting = "Plexus:Transports:Uds:MaxPayloadBytes" };

    private static async ValueTask<Stream> ConnectAsync(Uri address, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(address.AbsolutePath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

// The listener is this transport's own; each accepted connection is one request, served by the stream protocol.
internal sealed class UdsServer(UdsTransportOptions options) : IRequestPlaneServer
{
    private readonly string _path = string.IsNullOrEmpty(options.SocketPath) ? Path.Combine(Path.GetTempPath(), $"plexus-uds-{Guid.NewGuid():N}.sock") : options.SocketPath;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private StreamRequestServer? _requests;

    public Uri Address => new($"uds://{_path}");

    public TransportHealth Health { get; private set; } = TransportHealth.Healthy;

    public ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        _requests = new StreamRequestServer(dispatcher, UdsTransportFactory.Protocol(options));
        File.Delete(_path); // a socket file left behind by a process that died
        _listener.Bind(new UnixDomainSocketEndPoint(_path));
        _listener.Listen();
        _ = AcceptAsync(_requests);
        return ValueTask.CompletedTask;
    }

    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        Health = new TransportHealth(HealthStatus.Degraded, "draining");
        _listener.Dispose();
        if (_requests is not null)
        {
            await _requests.WaitForRequestsReadAsync(cancellationToken); // so that the core's drain counts them
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        File.Delete(_path);
        if (_requests is not null)
        {
            await _requests.DisposeAsync(); // every connection closes: handlers are aborted, clients see Unavailable
        }
    }

    private async Task AcceptAsync(StreamRequestServer requests)
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptAsync();
                _ = requests.ServeAsync(new NetworkStream(socket, ownsSocket: true));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener closed: the server is stopping.
        }
    }
}
