namespace Plexus.Transport.Tcp.Tests;

/// <summary>Settings for tests: loopback, a free port, and short keep-alive so dead peers show up quickly.</summary>
internal static class TestOptions
{
    public static TcpTransportOptions Loopback(string bind = "127.0.0.1:0") => new()
    {
        Bind = bind,
        KeepAliveInterval = TimeSpan.FromMilliseconds(500),
        KeepAliveTimeout = TimeSpan.FromSeconds(2),
        HandshakeTimeout = TimeSpan.FromSeconds(2),
    };
}
