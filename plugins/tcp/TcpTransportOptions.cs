using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Settings of the TCP transport, bound from <c>Plexus:Transports:Tcp</c>. Every rule lives in <see cref="Validate"/> so
/// that the plugin entry (configuration) and the factory (direct construction) check the same things.
/// </summary>
internal sealed class TcpTransportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Transports:Tcp";

    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    /// <summary>Where the server listens: <c>host:port</c>, <c>[v6]:port</c>; port 0 picks a free port. Default <c>0.0.0.0:7400</c>.</summary>
    public string Bind { get; set; } = "0.0.0.0:7400";

    /// <summary>
    /// What the server publishes as its address: <c>host</c> or <c>host:port</c> (the bound port when omitted). When
    /// unset: the bound IP, or for <c>0.0.0.0</c>/<c>::</c> the first non-loopback address of an interface that is up.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// The highest protocol version this side speaks and offers (docs/protocol/tcp.md, "Versions"). Not a setting: a
    /// side pinned to 1 speaks exactly as the first version did, which is how tests play an older peer.
    /// </summary>
    internal byte MaxProtocolVersion { get; set; } = Wire.Version;

    /// <summary>The largest request payload, and the largest response message. Default 256 MiB.</summary>
    public long MaxPayloadBytes { get; set; } = 256L * MiB;

    /// <summary>The largest frame body this side accepts; payloads are chunked to the peer's value. Default 64 KiB.</summary>
    public int MaxFrameBodyBytes { get; set; } = 64 * KiB;

    /// <summary>The largest frame header this side accepts; bounds a request's endpoint, id and headers. Default 64 KiB.</summary>
    public int MaxFrameHeaderBytes { get; set; } = 64 * KiB;

    /// <summary>Credit bytes the peer may have outstanding per stream (flow control). Default 1 MiB.</summary>
    public int StreamWindowBytes { get; set; } = MiB;

    /// <summary>Credit bytes the peer may have outstanding per connection (flow control). Default 16 MiB.</summary>
    public int ConnectionWindowBytes { get; set; } = 16 * MiB;

    /// <summary>Streams one client connection may have open on the server at once; more are refused as Overloaded. Default 4096.</summary>
    public int MaxConcurrentStreams { get; set; } = 4096;

    /// <summary>How long a connection may take to complete its handshake (TLS included). Default 5 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a client waits for a TCP connection to open. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After this long without receiving anything, a side sends a ping. Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After this long without receiving anything, the peer is dead: the connection closes and its requests fail. Default 15 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Bytes of control frames (PONG, CREDIT, END, ERROR, GOAWAY…) one connection may have waiting for its peer, queued or
    /// not yet taken by the socket. At this bound the connection stops reading from the peer until the peer has read
    /// down to half of it, so a peer that sends without reading is held back by TCP itself. Default 1 MiB.
    /// </summary>
    public int MaxQueuedControlBytes { get; set; } = MiB;

    /// <summary>
    /// How long a connection may stay stopped at <see cref="MaxQueuedControlBytes"/> without the peer reading anything;
    /// then it is closed. Default 10 s.
    /// </summary>
    public TimeSpan StalledPeerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Low-latency mode, for few connections carrying latency-bound traffic: each connection gets a reader thread of its
    /// own that waits in the kernel for the peer's bytes and handles them at once (server handlers and client callers'
    /// continuations run on it until they first wait), and a frame sent while the connection's writer is idle is written
    /// by its sender. Costs a thread per connection. Default off.
    /// </summary>
    public bool LowLatency { get; set; }

    /// <summary>
    /// With <see cref="LowLatency"/>, the most connections in this process that get a reader thread of their own; the
    /// connections beyond it run as in the default mode. Default 64.
    /// </summary>
    public int LowLatencyMaxConnections { get; set; } = 64;

    /// <summary>TLS and mutual TLS.</summary>
    public TcpTlsOptions Tls { get; set; } = new();

    /// <summary>The full configuration key of a setting, as errors name it.</summary>
    /// <param name="name">The setting's name below the section, such as <c>MaxPayloadBytes</c> or <c>Tls:CaPath</c>.</param>
    /// <returns>The key.</returns>
    public static string Key(string name) => $"{SectionName}:{name}";

    /// <summary>Every rule the settings break, each naming its key; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!TcpEndpoints.TryParseHostPort(Bind, defaultPort: null, out _, out _, out var bindError))
        {
            errors.Add($"{Key(nameof(Bind))} is '{Bind}': {bindError}");
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedAddress) && !TcpEndpoints.TryParseHostPort(AdvertisedAddress, defaultPort: 0, out _, out _, out var advertisedError))
        {
            errors.Add($"{Key(nameof(AdvertisedAddress))} is '{AdvertisedAddress}': {advertisedError}");
        }

        Check(errors, MaxPayloadBytes is > 0 and <= int.MaxValue, nameof(MaxPayloadBytes), MaxPayloadBytes, $"between 1 and {int.MaxValue}");
        Check(errors, MaxFrameBodyBytes is >= KiB and <= 16 * MiB, nameof(MaxFrameBodyBytes), MaxFrameBodyBytes, $"between {KiB} and {16 * MiB}");
        Check(errors, MaxFrameHeaderBytes is >= KiB and <= MiB, nameof(MaxFrameHeaderBytes), MaxFrameHeaderBytes, $"between {KiB} and {MiB}");
        Check(errors, StreamWindowBytes is >= 64 * KiB and <= 1024 * MiB, nameof(StreamWindowBytes), StreamWindowBytes, $"between {64 * KiB} and {1024 * MiB}");
        Check(errors, ConnectionWindowBytes >= StreamWindowBytes && ConnectionWindowBytes <= 1024 * MiB, nameof(ConnectionWindowBytes), ConnectionWindowBytes, $"at least {Key(nameof(StreamWindowBytes))} ({StreamWindowBytes}) and at most {1024 * MiB}");
        Check(errors, MaxConcurrentStreams >= 1, nameof(MaxConcurrentStreams), MaxConcurrentStreams, "at least 1");
        Check(errors, HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), HandshakeTimeout, "positive");
        Check(errors, ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), ConnectTimeout, "positive");
        Check(errors, KeepAliveInterval >= TimeSpan.FromMilliseconds(10), nameof(KeepAliveInterval), KeepAliveInterval, "at least 10 ms");
        Check(errors, MaxQueuedControlBytes is >= 16 * KiB and <= 1024 * MiB, nameof(MaxQueuedControlBytes), MaxQueuedControlBytes, $"between {16 * KiB} and {1024 * MiB}");
        Check(errors, StalledPeerTimeout >= TimeSpan.FromMilliseconds(10), nameof(StalledPeerTimeout), StalledPeerTimeout, "at least 10 ms");
        Check(errors, LowLatencyMaxConnections is >= 1 and <= 4096, nameof(LowLatencyMaxConnections), LowLatencyMaxConnections, "between 1 and 4096");
        Check(errors, KeepAliveTimeout > KeepAliveInterval, nameof(KeepAliveTimeout), KeepAliveTimeout, $"longer than {Key(nameof(KeepAliveInterval))} ({KeepAliveInterval})");

        var tls = Tls ?? new TcpTlsOptions();
        if (!TryParseTlsMode(tls, out var mode))
        {
            errors.Add($"{Key("Tls:Mode")} is '{tls.Mode}'; it must be off, files or cluster.");
        }
        else if (mode == TlsMode.Off && tls.Enabled)
        {
            errors.Add($"{Key("Tls:Mode")} is off but {Key("Tls:Enabled")} is true; remove one of them (Tls:Mode=files is Tls:Enabled=true).");
        }
        else if (mode == TlsMode.Cluster)
        {
            // The cluster's certificate and CA replace the files; a file set as well would be silently ignored, and
            // whoever set it believes it is used.
            var fileKeys = new List<string>();
            AddIfSet(fileKeys, tls.CertificatePath, "Tls:CertificatePath");
            AddIfSet(fileKeys, tls.KeyPath, "Tls:KeyPath");
            AddIfSet(fileKeys, tls.CertificatePassword, "Tls:CertificatePassword");
            AddIfSet(fileKeys, tls.CaPath, "Tls:CaPath");
            if (fileKeys.Count > 0)
            {
                errors.Add($"{Key("Tls:Mode")} is cluster, which uses this node's certificate from its cluster's CA, so {string.Join(", ", fileKeys)} must not be set; remove {(fileKeys.Count == 1 ? "it" : "them")}, or use Tls:Mode=files to serve certificates from files.");
            }

            return errors;
        }

        CheckFile(errors, tls.CertificatePath, "Tls:CertificatePath");
        CheckFile(errors, tls.KeyPath, "Tls:KeyPath");
        CheckFile(errors, tls.CaPath, "Tls:CaPath");
        if (tls.KeyPath is not null && tls.CertificatePath is null)
        {
            errors.Add($"{Key("Tls:KeyPath")} is set but {Key("Tls:CertificatePath")} is not; set the certificate the key belongs to.");
        }

        if (tls.ClientCertificateRequired && mode == TlsMode.Off)
        {
            errors.Add($"{Key("Tls:ClientCertificateRequired")} is true but {Key("Tls:Enabled")} is false; client certificates need TLS, so enable it.");
        }

        if (tls.ClientCertificateRequired && tls.CaPath is null)
        {
            errors.Add($"{Key("Tls:ClientCertificateRequired")} is true but {Key("Tls:CaPath")} is not set; name the CA file that client certificates must chain to.");
        }

        return errors;
    }

    /// <summary>Reads <c>Tls:Mode</c>; unset means what <c>Tls:Enabled</c> says, as before the setting existed.</summary>
    /// <param name="tls">The TLS settings.</param>
    /// <param name="mode">The mode; <see cref="TlsMode.Off"/> when the value is not one.</param>
    /// <returns>Whether the value is a mode.</returns>
    public static bool TryParseTlsMode(TcpTlsOptions tls, out TlsMode mode)
    {
        ArgumentNullException.ThrowIfNull(tls);
        switch (tls.Mode?.Trim().ToUpperInvariant())
        {
            case null or "":
                mode = tls.Enabled ? TlsMode.Files : TlsMode.Off;
                return true;
            case "OFF":
                mode = TlsMode.Off;
                return true;
            case "FILES":
                mode = TlsMode.Files;
                return true;
            case "CLUSTER":
                mode = TlsMode.Cluster;
                return true;
            default:
                mode = TlsMode.Off;
                return false;
        }
    }

    /// <summary>
    /// The error for a setting that passed validation but cannot be used, found when the server starts (an address in
    /// use, a host that does not resolve). It is an options validation failure, so the host reports it as a
    /// configuration error: one line, exit code 4.
    /// </summary>
    /// <param name="name">The setting's name below the section, such as <c>Bind</c>.</param>
    /// <param name="value">Its value.</param>
    /// <param name="problem">What is wrong with it and what to do.</param>
    /// <returns>The error to throw.</returns>
    public static OptionsValidationException Unusable(string name, string? value, string problem) =>
        new(Options.DefaultName, typeof(TcpTransportOptions), [$"{Key(name)} is '{value}': {problem}"]);

    /// <summary>Throws with every broken rule; used when the factory is built without the host.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors));
        }
    }

    private static void Check<T>(List<string> errors, bool valid, string name, T value, string rule)
    {
        if (!valid)
        {
            errors.Add($"{Key(name)} must be {rule}; it is {value}.");
        }
    }

    private static void AddIfSet(List<string> keys, string? value, string name)
    {
        if (!string.IsNullOrEmpty(value))
        {
            keys.Add(Key(name));
        }
    }

    private static void CheckFile(List<string> errors, string? path, string name)
    {
        if (path is not null && !File.Exists(path))
        {
            errors.Add($"{Key(name)} is '{path}', which does not exist; fix the path or remove the setting.");
        }
    }
}
