using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// Settings of the NATS transport, bound from <c>Plexus:Transports:Nats</c>. Every rule lives here so that the plugin
/// entry (configuration) and the factory (direct construction in tests) check the same things.
/// </summary>
internal sealed class NatsTransportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Transports:Nats";

    /// <summary>The NATS servers, comma-separated (<c>nats://host:port</c>, <c>tls://host:port</c>, credentials allowed in the URL).</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>The first token(s) of every subject the transport uses. Default <c>plexus</c>.</summary>
    public string SubjectPrefix { get; set; } = "plexus";

    /// <summary>
    /// The queue group of the endpoint subjects (<c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c>)
    /// on which plain NATS callers reach one of the processes serving an endpoint. Default <c>q</c>, the NATS services
    /// API's own default. Plexus clients pick an instance and do not use it.
    /// </summary>
    public string QueueGroup { get; set; } = "q";

    /// <summary>The connection name the NATS server shows; <c>plexus</c> when empty.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The address authority servers advertise (<c>nats://host:port</c>); the first of <see cref="Url"/> when empty.</summary>
    public string AdvertisedUrl { get; set; } = string.Empty;

    /// <summary>A token to authenticate with.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>A user to authenticate as.</summary>
    public string User { get; set; } = string.Empty;

    /// <summary>The user's password.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>A file holding the seed of the user's nkey (<c>SU…</c>), for servers that authenticate by nkey.</summary>
    public string NKeyFile { get; set; } = string.Empty;

    /// <summary>A <c>.creds</c> file (the user's JWT and nkey seed), for servers in operator (JWT) mode.</summary>
    public string CredsFile { get; set; } = string.Empty;

    /// <summary>TLS settings.</summary>
    public NatsTlsOptions Tls { get; set; } = new();

    /// <summary>How long one connection attempt may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the client pings the NATS server. Default 30 s.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unanswered pings after which the NATS connection is dropped. Default 2.</summary>
    public int MaxPingsOutstanding { get; set; } = 2;

    /// <summary>The first back-off between reconnect attempts; doubles up to <see cref="MaxReconnectWait"/>. Default 250 ms.</summary>
    public TimeSpan ReconnectWait { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest back-off between reconnect attempts. Default 5 s.</summary>
    public TimeSpan MaxReconnectWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Random time added to each back-off. Default 100 ms.</summary>
    public TimeSpan ReconnectJitter { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Reconnect attempts in a row before giving up; -1 for no limit. Default -1.</summary>
    public int MaxReconnectAttempts { get; set; } = -1;

    /// <summary>
    /// No longer used; kept so that a configuration still setting it is told so on start. The NATS client keeps what
    /// was written but not yet sent when a link drops in its write buffer (<see cref="MaxPendingBytes"/>) and sends it
    /// on the next link; the transport itself publishes nothing while disconnected.
    /// </summary>
    public long? ReconnectBufferBytes { get; set; }

    /// <summary>
    /// Bytes waiting for the socket above which senders wait (the NATS client's write buffer). Default 1 MiB: the client
    /// rents each publish's scratch buffers at 1/256 of this and clears them after every publish, so 8 MiB cost about
    /// a tenth of the CPU of a small request (measured).
    /// </summary>
    public long MaxPendingBytes { get; set; } = 1024L * 1024;

    /// <summary>
    /// Request bytes a server holds at once across every request whose payload it is receiving or whose handler runs,
    /// each request counted as its payload plus 1 KiB. A request that would go over is refused as <c>Overloaded</c>
    /// from its head, before any payload is buffered, so its caller tries another instance. More than
    /// <see cref="MaxPayloadBytes"/>. Default 512 MiB.
    /// </summary>
    public long MaxRequestBytesInFlight { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// The version the node's NATS services announce (<c>$SRV.INFO</c>), SemVer. Empty: the version of the process's
    /// entry assembly (the host, or the application that references Plexus).
    /// </summary>
    public string ServiceVersion { get; set; } = string.Empty;

    /// <summary>The largest request payload or response message. Default 256 MiB.</summary>
    public long MaxPayloadBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The response credit one request grants: bytes the server may send ahead of the reader. Default 4 MiB.</summary>
    public long WindowBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>How often each side of a quiet request shows it is alive; silence for three intervals fails the request. Default 1 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The full key of a setting, for messages.</summary>
    /// <param name="name">The setting's name.</param>
    /// <returns>The key.</returns>
    public static string Key(string name) => $"{SectionName}:{name}";

    /// <summary>The servers of <see cref="Url"/>.</summary>
    /// <returns>The URLs.</returns>
    public IReadOnlyList<Uri> Servers()
    {
        var servers = new List<Uri>();
        foreach (var part in Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(part, UriKind.Absolute, out var uri) && uri.Scheme is "nats" or "tls" && !string.IsNullOrEmpty(uri.Host))
            {
                servers.Add(uri);
            }
        }

        return servers;
    }

    /// <summary>Every rule the settings break, each naming its key; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        var parts = Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || Servers().Count != parts.Length)
        {
            problems.Add($"{Key(nameof(Url))} is '{Url}'; it must be one or more comma-separated URLs such as nats://127.0.0.1:4222 or tls://nats.example:4222.");
        }

        if (!IsSubjectPrefix(SubjectPrefix))
        {
            problems.Add($"{Key(nameof(SubjectPrefix))} is '{SubjectPrefix}'; it must be one or more dot-separated tokens of letters, digits, '-' or '_'.");
        }

        if (!IsToken(QueueGroup))
        {
            problems.Add($"{Key(nameof(QueueGroup))} is '{QueueGroup}'; it must be one token of letters, digits, '-' or '_' (default q).");
        }

        if (AdvertisedUrl.Length > 0 && !(Uri.TryCreate(AdvertisedUrl, UriKind.Absolute, out var advertised) && advertised.Scheme is "nats" or "tls"))
        {
            problems.Add($"{Key(nameof(AdvertisedUrl))} is '{AdvertisedUrl}'; it must be a nats:// URL such as nats://10.0.0.5:4222, or empty.");
        }

        var credentials = new List<string>();
        foreach (var (name, value) in new[] { (nameof(Token), Token), (nameof(User), User), (nameof(NKeyFile), NKeyFile), (nameof(CredsFile), CredsFile) })
        {
            if (!string.IsNullOrEmpty(value))
            {
                credentials.Add(Key(name));
            }
        }

        if (credentials.Count > 1)
        {
            problems.Add($"{string.Join(" and ", credentials)} are all set; a NATS server takes one kind of credential: set one of them.");
        }

        if (!string.IsNullOrEmpty(Password) && string.IsNullOrEmpty(User))
        {
            problems.Add($"{Key(nameof(Password))} is set without {Key(nameof(User))}; set both.");
        }

        if (ReconnectBufferBytes is not null)
        {
            problems.Add($"{Key(nameof(ReconnectBufferBytes))} is no longer used: the transport publishes nothing while disconnected, and what was written before a link dropped waits in the client's write buffer ({Key(nameof(MaxPendingBytes))}). Remove the setting.");
        }

        if (ServiceVersion.Length > 0 && !NatsServiceNames.IsSemVer(ServiceVersion))
        {
            problems.Add($"{Key(nameof(ServiceVersion))} is '{ServiceVersion}'; the NATS services API wants a SemVer version such as 1.4.0, or leave it empty for the application's own version.");
        }

        if (string.IsNullOrEmpty(Tls.CertFile) != string.IsNullOrEmpty(Tls.KeyFile))
        {
            problems.Add($"{Key("Tls:CertFile")} and {Key("Tls:KeyFile")} go together: set both or neither.");
        }

        foreach (var (name, path) in new[] { ("Tls:CaFile", Tls.CaFile), ("Tls:CertFile", Tls.CertFile), ("Tls:KeyFile", Tls.KeyFile), (nameof(NKeyFile), NKeyFile), (nameof(CredsFile), CredsFile) })
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                problems.Add($"{Key(name)} is '{path}', which does not exist.");
            }
        }

        Positive(problems, nameof(ConnectTimeout), ConnectTimeout);
        Positive(problems, nameof(PingInterval), PingInterval);
        Positive(problems, nameof(ReconnectWait), ReconnectWait);
        Positive(problems, nameof(KeepAliveInterval), KeepAliveInterval);
        if (MaxReconnectWait < ReconnectWait)
        {
            problems.Add($"{Key(nameof(MaxReconnectWait))} is {MaxReconnectWait}; it must be at least {Key(nameof(ReconnectWait))} ({ReconnectWait}).");
        }

        if (ReconnectJitter < TimeSpan.Zero)
        {
            problems.Add($"{Key(nameof(ReconnectJitter))} is {ReconnectJitter}; it must not be negative.");
        }

        if (MaxPingsOutstanding < 1)
        {
            problems.Add($"{Key(nameof(MaxPingsOutstanding))} is {MaxPingsOutstanding}; it must be at least 1.");
        }

        if (MaxReconnectAttempts < -1)
        {
            problems.Add($"{Key(nameof(MaxReconnectAttempts))} is {MaxReconnectAttempts}; it must be -1 (no limit) or more.");
        }

        if (MaxPendingBytes < 64 * 1024 || MaxPendingBytes > int.MaxValue)
        {
            problems.Add($"{Key(nameof(MaxPendingBytes))} is {MaxPendingBytes}; it must be between 65536 and {int.MaxValue}.");
        }

        if (MaxPayloadBytes < 1 || MaxPayloadBytes > Array.MaxLength)
        {
            problems.Add($"{Key(nameof(MaxPayloadBytes))} is {MaxPayloadBytes}; it must be between 1 and {Array.MaxLength} bytes.");
        }

        if (MaxRequestBytesInFlight <= MaxPayloadBytes)
        {
            problems.Add($"{Key(nameof(MaxRequestBytesInFlight))} is {MaxRequestBytesInFlight}; it must be more than {Key(nameof(MaxPayloadBytes))} ({MaxPayloadBytes}), or the largest request could never be served.");
        }

        if (WindowBytes < 64 * 1024)
        {
            problems.Add($"{Key(nameof(WindowBytes))} is {WindowBytes}; it must be at least 65536 bytes.");
        }

        return problems;
    }

    /// <summary>Throws with every broken rule; used when the factory is built without the host.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems));
        }
    }

    /// <summary>The NATS.Client.Core settings these options stand for.</summary>
    /// <param name="loggers">Where the client library logs.</param>
    /// <returns>The connection options.</returns>
    public NatsOpts ToNatsOpts(ILoggerFactory loggers)
    {
        var serverName = NullIfEmpty(Tls.ServerName);
        return new NatsOpts
        {
            Url = string.Join(',', Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            Name = string.IsNullOrEmpty(Name) ? "plexus" : Name,
            LoggerFactory = loggers,
            AuthOpts = new NatsAuthOpts
            {
                Token = NullIfEmpty(Token),
                Username = NullIfEmpty(User),
                Password = NullIfEmpty(Password),
                NKeyFile = NullIfEmpty(NKeyFile),
                CredsFile = NullIfEmpty(CredsFile),
            },
            TlsOpts = new NatsTlsOpts
            {
                // Prefer (the default without files): TLS whenever the server offers it; Require when asked for.
                Mode = Tls.Enabled ? TlsMode.Require : TlsMode.Auto,
                CaFile = NullIfEmpty(Tls.CaFile),
                CertFile = NullIfEmpty(Tls.CertFile),
                KeyFile = NullIfEmpty(Tls.KeyFile),
                ConfigureClientAuthentication = serverName is null ? null : options =>
                {
                    options.TargetHost = serverName;
                    return default;
                },
            },
            ConnectTimeout = ConnectTimeout,
            PingInterval = PingInterval,
            MaxPingOut = MaxPingsOutstanding,
            ReconnectWaitMin = ReconnectWait,
            ReconnectWaitMax = MaxReconnectWait,
            ReconnectJitter = ReconnectJitter,
            MaxReconnectRetry = MaxReconnectAttempts,
            WriterBufferSize = (int)MaxPendingBytes,

            // Header values travel as UTF-8 (docs/protocol/nats.md); the client's default is ASCII.
            HeaderEncoding = System.Text.Encoding.UTF8,
        };
    }

    private static string? NullIfEmpty(string value) => string.IsNullOrEmpty(value) ? null : value;

    private static void Positive(List<string> problems, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"{Key(name)} is {value}; it must be more than zero.");
        }
    }

    private static bool IsSubjectPrefix(string prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return false;
        }

        foreach (var token in prefix.Split('.'))
        {
            if (!IsToken(token))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsToken(string token)
    {
        if (token.Length == 0)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
