using Microsoft.Extensions.Options;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// Settings of the QUIC transport, bound from <c>Plexus:Transports:Quic</c>. Every rule lives in <see cref="Validate"/>
/// so that the plugin entry (configuration) and the factory (direct construction) check the same things.
/// </summary>
internal sealed class QuicTransportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Transports:Quic";

    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    // QUIC's smallest datagram (RFC 9000 §14) and the largest UDP payload a peer may announce.
    private const int MinUdpPayload = 1200;
    // IPv4 carries at most 65,507 bytes of UDP payload; a round number below it leaves room for IPv6 too.
    private const int MaxUdpPayload = 65000;

    /// <summary>Where the server listens (UDP): <c>host:port</c>, <c>[v6]:port</c>; port 0 picks a free port. Default <c>0.0.0.0:7500</c>.</summary>
    public string Bind { get; set; } = "0.0.0.0:7500";

    /// <summary>
    /// What the server publishes as its address: <c>host</c> or <c>host:port</c> (the bound port when omitted). When
    /// unset: the bound IP, or for <c>0.0.0.0</c>/<c>::</c> the first non-loopback address of an interface that is up.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The largest request payload, and the largest response message. Default 256 MiB.</summary>
    public long MaxPayloadBytes { get; set; } = 256L * MiB;

    /// <summary>
    /// The highest protocol version this side speaks and offers in ALPN (docs/protocol/quic.md, "Versions"). Not a
    /// setting: a side pinned to 1 speaks exactly as the first version did, which is how tests play an older peer.
    /// </summary>
    internal byte MaxProtocolVersion { get; set; } = QuicWire.Version;

    /// <summary>The largest frame body this side accepts; payloads are chunked to the peer's value. Default 64 KiB.</summary>
    public int MaxFrameBodyBytes { get; set; } = 64 * KiB;

    /// <summary>The largest frame header this side accepts; bounds a request's endpoint, id and headers. Default 64 KiB.</summary>
    public int MaxFrameHeaderBytes { get; set; } = 64 * KiB;

    /// <summary>QUIC flow-control window per stream: what a peer may send ahead of this side's reader. Default 1 MiB.</summary>
    public int StreamWindowBytes { get; set; } = MiB;

    /// <summary>QUIC flow-control window per connection, across its streams. Default 16 MiB.</summary>
    public int ConnectionWindowBytes { get; set; } = 16 * MiB;

    /// <summary>Requests one client connection may have open on the server at once (QUIC's <c>initial_max_streams_bidi</c>). Default 4096.</summary>
    public int MaxConcurrentStreams { get; set; } = 4096;

    /// <summary>How long the QUIC handshake (TLS included) and the SETTINGS exchange may take. Default 5 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A connection that receives nothing for this long is dead: its requests fail with Unavailable. Default 30 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After this long without receiving anything, a side sends a QUIC PING. Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes a stream may have waiting for flow control or congestion before its writer's flush waits. Default 256 KiB.</summary>
    public int SendBufferBytes { get; set; } = 256 * KiB;

    /// <summary>
    /// Response bytes one client connection may owe its client across all its streams: handed to QUIC and not yet
    /// acknowledged (in flight, or held back by the client's flow control). At this bound the handlers of that
    /// connection wait in <c>FlushAsync</c> and the server takes no new request streams from it until the client has
    /// read down to half. Default 16 MiB.
    /// </summary>
    public int ConnectionSendBufferBytes { get; set; } = 16 * MiB;

    /// <summary>
    /// How long a client connection may stay at <see cref="ConnectionSendBufferBytes"/> without the client
    /// acknowledging anything; then it is closed. Default 10 s.
    /// </summary>
    public TimeSpan StalledPeerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest UDP payload this side sends. Default 1452: a 1500-byte Ethernet MTU less the IPv6 and UDP headers.</summary>
    public int MaxUdpPayloadSize { get; set; } = 1452;

    /// <summary>
    /// Whether a connection to a peer over loopback sends packets as large as the loopback interface's MTU allows
    /// (up to 65,000 bytes) instead of <see cref="MaxUdpPayloadSize"/>: loopback loses no packet to its size, and
    /// forty-five times fewer packets carry the same bytes. Default true.
    /// </summary>
    public bool LoopbackMtu { get; set; } = true;

    /// <summary>TLS: certificates presented and trusted.</summary>
    public QuicTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Where servers on this machine publish their ephemeral certificates for local clients. Not bound from
    /// configuration (internal): tests point it elsewhere; <see langword="null"/> means the per-user default.
    /// </summary>
    internal string? EphemeralTrustDirectory { get; set; }

    /// <summary>The full configuration key of a setting, as errors name it.</summary>
    /// <param name="name">The setting's name below the section, such as <c>MaxPayloadBytes</c> or <c>Tls:CaPath</c>.</param>
    /// <returns>The key.</returns>
    public static string Key(string name) => $"{SectionName}:{name}";

    /// <summary>Every rule the settings break, each naming its key; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!QuicEndpoints.TryParseHostPort(Bind, defaultPort: null, out _, out _, out var bindError))
        {
            errors.Add($"{Key(nameof(Bind))} is '{Bind}': {bindError}");
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedAddress) && !QuicEndpoints.TryParseHostPort(AdvertisedAddress, defaultPort: 0, out _, out _, out var advertisedError))
        {
            errors.Add($"{Key(nameof(AdvertisedAddress))} is '{AdvertisedAddress}': {advertisedError}");
        }

        Check(errors, MaxPayloadBytes is > 0 and <= int.MaxValue, nameof(MaxPayloadBytes), MaxPayloadBytes, $"between 1 and {int.MaxValue}");
        Check(errors, MaxFrameBodyBytes is >= KiB and <= 16 * MiB, nameof(MaxFrameBodyBytes), MaxFrameBodyBytes, $"between {KiB} and {16 * MiB}");
        Check(errors, MaxFrameHeaderBytes is >= KiB and <= MiB, nameof(MaxFrameHeaderBytes), MaxFrameHeaderBytes, $"between {KiB} and {MiB}");

        // A reader consumes a frame only once all of it is in: a stream window smaller than the largest frame the peer
        // may send would stall that stream for good.
        var largestFrame = (long)MaxFrameHeaderBytes + MaxFrameBodyBytes + KiB;
        Check(errors, StreamWindowBytes >= Math.Max(64 * KiB, largestFrame) && StreamWindowBytes <= 1024 * MiB, nameof(StreamWindowBytes), StreamWindowBytes,
            $"at least {Math.Max(64 * KiB, largestFrame)} ({Key(nameof(MaxFrameHeaderBytes))} + {Key(nameof(MaxFrameBodyBytes))} + 1 KiB, since a frame must fit in the window) and at most {1024 * MiB}");
        Check(errors, ConnectionWindowBytes >= StreamWindowBytes && ConnectionWindowBytes <= 1024 * MiB, nameof(ConnectionWindowBytes), ConnectionWindowBytes, $"at least {Key(nameof(StreamWindowBytes))} ({StreamWindowBytes}) and at most {1024 * MiB}");
        Check(errors, MaxConcurrentStreams is >= 1 and <= 1 << 20, nameof(MaxConcurrentStreams), MaxConcurrentStreams, $"between 1 and {1 << 20}");
        Check(errors, HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), HandshakeTimeout, "positive");
        Check(errors, KeepAliveInterval >= TimeSpan.FromMilliseconds(10), nameof(KeepAliveInterval), KeepAliveInterval, "at least 10 ms");
        Check(errors, IdleTimeout > KeepAliveInterval, nameof(IdleTimeout), IdleTimeout, $"longer than {Key(nameof(KeepAliveInterval))} ({KeepAliveInterval}), or a healthy idle connection would time out");
        Check(errors, SendBufferBytes is >= 16 * KiB and <= 1024 * MiB, nameof(SendBufferBytes), SendBufferBytes, $"between {16 * KiB} and {1024 * MiB}");
        Check(errors, ConnectionSendBufferBytes >= SendBufferBytes && ConnectionSendBufferBytes <= 1024 * MiB, nameof(ConnectionSendBufferBytes), ConnectionSendBufferBytes, $"at least {Key(nameof(SendBufferBytes))} ({SendBufferBytes}) and at most {1024 * MiB}");
        Check(errors, StalledPeerTimeout >= TimeSpan.FromMilliseconds(10), nameof(StalledPeerTimeout), StalledPeerTimeout, "at least 10 ms");
        Check(errors, MaxUdpPayloadSize is >= MinUdpPayload and <= MaxUdpPayload, nameof(MaxUdpPayloadSize), MaxUdpPayloadSize, $"between {MinUdpPayload} (QUIC's minimum) and {MaxUdpPayload}");

        var tls = Tls ?? new QuicTlsOptions();
        if (tls.ServerName is { } serverName && Uri.CheckHostName(serverName) == UriHostNameType.Unknown)
        {
            errors.Add($"{Key("Tls:ServerName")} is '{serverName}', which is not a host name or IP address; set the name the server's certificate carries, or remove it to use the address's host.");
        }

        if (!TryParseClusterMode(tls, out var cluster))
        {
            errors.Add($"{Key("Tls:Mode")} is '{tls.Mode}'; it must be files or cluster (QUIC always runs TLS, so there is no off).");
        }
        else if (cluster)
        {
            // The cluster's certificate and CA replace the files; a file set as well would be silently ignored, and
            // whoever set it believes it is used.
            var fileKeys = new List<string>();
            AddIfSet(fileKeys, tls.CertificatePath, "Tls:CertificatePath");
            AddIfSet(fileKeys, tls.KeyPath, "Tls:KeyPath");
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

        if (tls.ClientCertificateRequired && tls.CaPath is null)
        {
            errors.Add($"{Key("Tls:ClientCertificateRequired")} is true but {Key("Tls:CaPath")} is not set; name the CA file that client certificates must chain to.");
        }

        return errors;
    }

    /// <summary>The engine's settings for a server's connections (<paramref name="server"/>) or a client's.</summary>
    public QuicConnectionSettings ConnectionSettings(bool server) => new()
    {
        IdleTimeout = IdleTimeout,
        KeepAliveInterval = KeepAliveInterval,
        HandshakeTimeout = HandshakeTimeout,
        StreamWindowBytes = StreamWindowBytes,
        ConnectionWindowBytes = ConnectionWindowBytes,

        // The client accepts no request streams; each side opens one control stream (room for the spare two the protocol allows).
        MaxInboundBidirectionalStreams = server ? MaxConcurrentStreams : 0,
        MaxInboundUnidirectionalStreams = 3,
        SendBufferBytes = SendBufferBytes,

        // The budget bounds what a server owes a client that does not read; a client's requests are its callers' own.
        ConnectionSendBufferBytes = server ? ConnectionSendBufferBytes : 0,
        StalledPeerTimeout = StalledPeerTimeout,
        MaxUdpPayloadSize = MaxUdpPayloadSize,
        LoopbackMtu = LoopbackMtu,
        Alpns = QuicWire.Alpns(MaxProtocolVersion),
    };

    /// <summary>
    /// The error for a setting that passed validation but cannot be used, found when the server starts (an address in
    /// use, a host that does not resolve, a certificate GnuTLS refuses). It is an options validation failure, so the
    /// host reports it as a configuration error: one line, exit code 4.
    /// </summary>
    /// <param name="name">The setting's name below the section, such as <c>Bind</c>.</param>
    /// <param name="value">Its value.</param>
    /// <param name="problem">What is wrong with it and what to do.</param>
    /// <returns>The error to throw.</returns>
    public static OptionsValidationException Unusable(string name, string? value, string problem) =>
        new(Options.DefaultName, typeof(QuicTransportOptions), [$"{Key(name)} is '{value}': {problem}"]);

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

    /// <summary>Reads <c>Tls:Mode</c>: whether it is <c>cluster</c>; unset is <c>files</c>.</summary>
    /// <param name="tls">The TLS settings.</param>
    /// <param name="cluster">Whether the mode is <c>cluster</c>.</param>
    /// <returns>Whether the value is a mode.</returns>
    public static bool TryParseClusterMode(QuicTlsOptions tls, out bool cluster)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var mode = tls.Mode?.Trim();
        cluster = string.Equals(mode, "cluster", StringComparison.OrdinalIgnoreCase);
        return cluster || string.IsNullOrEmpty(mode) || string.Equals(mode, "files", StringComparison.OrdinalIgnoreCase);
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
