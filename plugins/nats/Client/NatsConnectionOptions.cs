namespace Plexus.Transport.Nats.Client;

/// <summary>How a <see cref="NatsConnection"/> connects, authenticates, keeps alive and reconnects.</summary>
internal sealed class NatsConnectionOptions
{
    /// <summary>The servers to try, in order (<c>nats://</c> or <c>tls://</c>, optionally with <c>user:pass@</c> or <c>token@</c>).</summary>
    public IReadOnlyList<Uri> Servers { get; init; } = [new Uri("nats://127.0.0.1:4222")];

    /// <summary>The connection's name, shown by the server's monitoring.</summary>
    public string Name { get; init; } = "plexus";

    /// <summary>A token to authenticate with, if the server wants one.</summary>
    public string? Token { get; init; }

    /// <summary>A user name to authenticate with.</summary>
    public string? User { get; init; }

    /// <summary>The user's password.</summary>
    public string? Password { get; init; }

    /// <summary>Use TLS even when the server does not require it.</summary>
    public bool TlsRequired { get; init; }

    /// <summary>A PEM file of certificate authorities the server's certificate must chain to; the system's when empty.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>A PEM client certificate, for servers that verify clients.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>The PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>The host name the server's certificate must be issued to; the URL's host when empty.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>How long one connection attempt (TCP, INFO, TLS, CONNECT and the first PONG) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often this client pings the server.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many pings may go unanswered before the connection is dropped as dead.</summary>
    public int MaxPingsOutstanding { get; init; } = 2;

    /// <summary>Whether to reconnect after the connection is lost.</summary>
    public bool AllowReconnect { get; init; } = true;

    /// <summary>The first back-off between reconnect attempts; it doubles up to <see cref="MaxReconnectWait"/>.</summary>
    public TimeSpan ReconnectWait { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest back-off between reconnect attempts.</summary>
    public TimeSpan MaxReconnectWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Up to this much random time is added to each back-off, so clients do not reconnect in lockstep.</summary>
    public TimeSpan ReconnectJitter { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many reconnect attempts in a row before giving up; negative for no limit.</summary>
    public int MaxReconnectAttempts { get; init; } = -1;

    /// <summary>How many bytes of publishes are kept while disconnected; beyond that a publish fails.</summary>
    public long ReconnectBufferBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>How many bytes may wait to be written while connected before a publisher waits (back-pressure).</summary>
    public long MaxPendingBytes { get; init; } = 8L * 1024 * 1024;
}
