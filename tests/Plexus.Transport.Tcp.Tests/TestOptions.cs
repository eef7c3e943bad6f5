namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// Settings for tests: loopback, a free port, and a short keep-alive interval so PING and PONG run during the tests.
/// The timeouts leave room for a busy 2-core CI machine, where one process hosts both ends of every connection and
/// can stall for seconds; the tests of the timeouts themselves set their own.
/// </summary>
internal static class TestOptions
{
    public static TcpTransportOptions Loopback(string bind = "127.0.0.1:0") => new()
    {
        Bind = bind,
        KeepAliveInterval = TimeSpan.FromMilliseconds(500),
        KeepAliveTimeout = TimeSpan.FromSeconds(10),
        HandshakeTimeout = TimeSpan.FromSeconds(10),
    };
}
