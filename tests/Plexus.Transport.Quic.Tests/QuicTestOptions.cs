namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Settings for tests: loopback, a free port, a short keep-alive interval so PINGs run during the tests, and TLS from
/// <see cref="TestCertificates"/> (the server's certificate and key, and its CA for clients). The timeouts leave room
/// for a busy 2-core CI machine, where one process hosts both ends of every connection and can stall for seconds.
/// </summary>
internal static class QuicTestOptions
{
    public static QuicTransportOptions Loopback(TestCertificates? certificates, string bind = "127.0.0.1:0") => new()
    {
        Bind = bind,
        KeepAliveInterval = TimeSpan.FromMilliseconds(500),
        IdleTimeout = TimeSpan.FromSeconds(10),
        HandshakeTimeout = TimeSpan.FromSeconds(10),
        Tls = certificates is null
            ? new QuicTlsOptions()
            : new QuicTlsOptions { CertificatePath = certificates.ServerCertificatePath, KeyPath = certificates.ServerKeyPath, CaPath = certificates.CaPath },
    };

    /// <summary>A factory for <paramref name="options"/> with TwoPart and, optionally, a log to check.</summary>
    public static QuicTransportFactory Factory(QuicTransportOptions options, QuicLogCapture? log = null) =>
        new(options, TestCodecs.TwoPart(), log?.Factory());
}
