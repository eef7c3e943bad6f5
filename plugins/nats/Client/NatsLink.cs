using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// One socket to one server, from the handshake to its death. A <see cref="NatsConnection"/> lives across many links:
/// when one dies, it reconnects with a new one.
/// </summary>
internal sealed class NatsLink : IDisposable
{
    /// <summary>The NATS port when a URL names none.</summary>
    public const int DefaultPort = 4222;

    private const string ClientVersion = "1.0.0";

    private NatsLink(Uri server, Socket socket, Stream stream, NatsServerInfo info)
    {
        Server = server;
        Socket = socket;
        Stream = stream;
        Info = info;
        Parser = new NatsParser(info.MaxPayload);
        Reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>The server this link is connected to.</summary>
    public Uri Server { get; }

    /// <summary>The socket.</summary>
    public Socket Socket { get; }

    /// <summary>The stream over the socket: the socket's own, or TLS over it.</summary>
    public Stream Stream { get; }

    /// <summary>Reads the server's bytes.</summary>
    public PipeReader Reader { get; }

    /// <summary>Parses the server's bytes.</summary>
    public NatsParser Parser { get; }

    /// <summary>The server's latest INFO.</summary>
    public NatsServerInfo Info { get; set; }

    /// <summary>Cancelled when the link dies; stops its loops.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>
    /// One entry per PING sent on this link, in order: a waiter to complete for a flush, or <see langword="null"/> for
    /// a keep-alive ping. Guarded by the connection's lock.
    /// </summary>
    public Queue<TaskCompletionSource?> PongWaiters { get; } = new();

    /// <summary>Keep-alive pings sent and not answered yet. Guarded by the connection's lock.</summary>
    public int PingsOutstanding { get; set; }

    /// <summary>Whether the link has died; set once. Guarded by the connection's lock.</summary>
    public bool Dead { get; set; }

    /// <summary>The read loop, once started.</summary>
    public Task ReadLoop { get; set; } = Task.CompletedTask;

    /// <summary>The write loop, once started.</summary>
    public Task WriteLoop { get; set; } = Task.CompletedTask;

    /// <summary>The port of a NATS URL, 4222 when it names none.</summary>
    /// <param name="server">The URL.</param>
    /// <returns>The port.</returns>
    public static int PortOf(Uri server) => server.Port > 0 ? server.Port : DefaultPort;

    /// <summary>
    /// Connects and completes the handshake: waits for INFO, upgrades to TLS when needed, sends CONNECT, the
    /// subscriptions to restore, and PING, and returns once PONG arrives. A -ERR fails it with the server's text.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="options">Credentials, TLS and timeouts.</param>
    /// <param name="subscriptions">Subscriptions to restore before any other traffic.</param>
    /// <param name="onFrame">Handles frames that arrive before PONG (messages for the restored subscriptions, INFO).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected link.</returns>
    /// <exception cref="NatsException">The attempt failed; the message says why.</exception>
    public static async Task<NatsLink> ConnectAsync(
        Uri server,
        NatsConnectionOptions options,
        IReadOnlyCollection<NatsSubscription> subscriptions,
        Action<NatsLink, NatsFrame> onFrame,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var token = timeout.Token;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        NatsLink? link = null;
        try
        {
            try
            {
                await socket.ConnectAsync(server.Host, PortOf(server), token).ConfigureAwait(false);
            }
            catch (SocketException exception)
            {
                throw new NatsException(NatsErrorKind.Connection, $"Could not reach the NATS server at {Display(server)}: {exception.Message}.", exception);
            }

            Stream stream = new NetworkStream(socket, ownsSocket: false);
            var info = await ReadInfoAsync(stream, server, token).ConfigureAwait(false);
            var tls = options.TlsRequired || info.TlsRequired || string.Equals(server.Scheme, "tls", StringComparison.OrdinalIgnoreCase);
            if (tls)
            {
                if (!info.TlsRequired && !info.TlsAvailable)
                {
                    throw new NatsException(NatsErrorKind.Tls, $"TLS is configured for {Display(server)}, but that server does not offer TLS; configure TLS on the server or turn it off on the client.");
                }

                stream = await UpgradeAsync(stream, server, options, token).ConfigureAwait(false);
            }

            link = new NatsLink(server, socket, stream, info);
            await link.HandshakeAsync(options, tls, subscriptions, onFrame, token).ConfigureAwait(false);
            return link;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(link, socket);
            throw new NatsException(NatsErrorKind.Timeout, $"Connecting to the NATS server at {Display(server)} took longer than {options.ConnectTimeout.TotalSeconds:0.###} s.");
        }
        catch (Exception exception) when (exception is IOException or System.Security.Authentication.AuthenticationException)
        {
            Dispose(link, socket);
            var kind = exception is System.Security.Authentication.AuthenticationException ? NatsErrorKind.Tls : NatsErrorKind.Connection;
            throw new NatsException(kind, $"The connection to the NATS server at {Display(server)} failed during the handshake: {exception.Message}", exception);
        }
        catch
        {
            Dispose(link, socket);
            throw;
        }
    }

    /// <summary>A server URL without its credentials, for messages.</summary>
    /// <param name="server">The URL.</param>
    /// <returns>The text.</returns>
    public static string Display(Uri server) => $"{server.Scheme}://{server.Host}:{PortOf(server)}";

    /// <summary>Closes the socket at once; the loops end with errors.</summary>
    public void Abort()
    {
        try
        {
            Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            // No linger: the peer sees the connection reset, as after a crash.
            Socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        Socket.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        Stream.Dispose();
        Socket.Dispose();
    }

    private static void Dispose(NatsLink? link, Socket socket)
    {
        if (link is not null)
        {
            link.Dispose();
        }
        else
        {
            socket.Dispose();
        }
    }

    private static async Task<NatsServerInfo> ReadInfoAsync(Stream stream, Uri server, CancellationToken token)
    {
        // Read straight from the socket, not through a buffered reader: bytes after INFO may be a TLS handshake.
        // The server sends nothing else before CONNECT except, when refusing us, an -ERR.
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            var parser = new NatsParser(long.MaxValue);
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new NatsException(NatsErrorKind.Connection, $"The NATS server at {Display(server)} closed the connection before sending INFO.");
                }

                length += read;
                var bytes = new ReadOnlySequence<byte>(buffer, 0, length);
                if (!parser.TryRead(ref bytes, out var frame))
                {
                    continue;
                }

                if (frame.Op == NatsOp.Err)
                {
                    throw ServerError(server, frame.Payload);
                }

                if (frame.Op != NatsOp.Info)
                {
                    throw new NatsProtocolException($"The NATS server at {Display(server)} sent {frame.Op} before INFO; is it a NATS server?");
                }

                var info = NatsServerInfo.Parse(frame.Payload);
                if (!bytes.IsEmpty && parser.TryRead(ref bytes, out var next) && next.Op == NatsOp.Err)
                {
                    throw ServerError(server, next.Payload);
                }

                if (!info.Headers)
                {
                    throw new NatsException(NatsErrorKind.Protocol, $"The NATS server at {Display(server)} does not support headers; it must be version 2.2 or later.");
                }

                return info;
            }
        }
        catch (NatsProtocolException exception) when (length > 0)
        {
            throw new NatsProtocolException($"The server at {Display(server)} did not start with a valid NATS INFO: {exception.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<Stream> UpgradeAsync(Stream stream, Uri server, NatsConnectionOptions options, CancellationToken token)
    {
        X509Certificate2Collection? authorities = null;
        if (!string.IsNullOrEmpty(options.TlsCaFile))
        {
            authorities = [];
            try
            {
                authorities.ImportFromPemFile(options.TlsCaFile);
            }
            catch (Exception exception) when (exception is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            {
                throw new NatsException(NatsErrorKind.Tls, $"Could not read the certificate authorities from '{options.TlsCaFile}': {exception.Message}", exception);
            }
        }

        var clientCertificates = new X509CertificateCollection();
        if (!string.IsNullOrEmpty(options.TlsCertFile))
        {
            try
            {
                clientCertificates.Add(X509Certificate2.CreateFromPemFile(options.TlsCertFile, options.TlsKeyFile));
            }
            catch (Exception exception) when (exception is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            {
                throw new NatsException(NatsErrorKind.Tls, $"Could not read the client certificate '{options.TlsCertFile}' with key '{options.TlsKeyFile}': {exception.Message}", exception);
            }
        }

        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = string.IsNullOrEmpty(options.TlsServerName) ? server.Host : options.TlsServerName,
                ClientCertificates = clientCertificates,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors, authorities),
            },
            token).ConfigureAwait(false);
        return ssl;
    }

    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? authorities)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // Only an untrusted chain can be rescued, and only by the configured authorities; a wrong name never.
        if (authorities is null || certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private static NatsException ServerError(Uri server, ReadOnlySequence<byte> text)
    {
        var message = Encoding.UTF8.GetString(text);
        var auth = message.Contains("authorization", StringComparison.OrdinalIgnoreCase)
            || message.Contains("authentication", StringComparison.OrdinalIgnoreCase);
        return auth
            ? new NatsException(NatsErrorKind.Authorization, $"The NATS server at {Display(server)} refused the credentials: '{message}'. Check the token or user and password.")
            : new NatsException(NatsErrorKind.Server, $"The NATS server at {Display(server)} refused the connection: '{message}'.");
    }

    private async Task HandshakeAsync(
        NatsConnectionOptions options,
        bool tls,
        IReadOnlyCollection<NatsSubscription> subscriptions,
        Action<NatsLink, NatsFrame> onFrame,
        CancellationToken token)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        buffer.Write("CONNECT "u8);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("verbose", false);
            json.WriteBoolean("pedantic", false);
            json.WriteBoolean("tls_required", tls);
            json.WriteString("name", options.Name);
            json.WriteString("lang", ".NET");
            json.WriteString("version", ClientVersion);
            json.WriteNumber("protocol", 1);
            json.WriteBoolean("headers", true);
            json.WriteBoolean("no_responders", true);
            json.WriteBoolean("echo", true);
            var (user, password, authToken) = Credentials(options);
            if (!string.IsNullOrEmpty(authToken))
            {
                json.WriteString("auth_token", authToken);
            }

            if (!string.IsNullOrEmpty(user))
            {
                json.WriteString("user", user);
                json.WriteString("pass", password ?? string.Empty);
            }

            json.WriteEndObject();
        }

        buffer.Write("\r\n"u8);

        // Subscriptions first, so that nothing the user sends afterwards can overtake them.
        foreach (var subscription in subscriptions)
        {
            var line = buffer.GetSpan(1024 + subscription.Subject.Length + (subscription.QueueGroup?.Length ?? 0));
            buffer.Advance(NatsOutbox.WriteSubscribe(line, subscription.Subject, subscription.QueueGroup, subscription.Sid));
        }

        buffer.Write("PING\r\n"u8);
        await Stream.WriteAsync(buffer.WrittenMemory, token).ConfigureAwait(false);
        await Stream.FlushAsync(token).ConfigureAwait(false);

        while (true)
        {
            var result = await Reader.ReadAsync(token).ConfigureAwait(false);
            var bytes = result.Buffer;
            var done = false;
            try
            {
                while (!done && Parser.TryRead(ref bytes, out var frame))
                {
                    switch (frame.Op)
                    {
                        case NatsOp.Pong:
                            done = true;
                            break;
                        case NatsOp.Err:
                            throw ServerError(Server, frame.Payload);
                        case NatsOp.Ping:
                            await Stream.WriteAsync("PONG\r\n"u8.ToArray(), token).ConfigureAwait(false);
                            break;
                        default:
                            onFrame(this, frame);
                            break;
                    }
                }
            }
            finally
            {
                Reader.AdvanceTo(bytes.Start, done ? bytes.Start : bytes.End);
            }

            if (done)
            {
                return;
            }

            if (result.IsCompleted)
            {
                throw new NatsException(NatsErrorKind.Connection, $"The NATS server at {Display(Server)} closed the connection during the handshake.");
            }
        }
    }

    private (string? User, string? Password, string? Token) Credentials(NatsConnectionOptions options)
    {
        if (!string.IsNullOrEmpty(options.Token) || !string.IsNullOrEmpty(options.User))
        {
            return (options.User, options.Password, options.Token);
        }

        // nats://user:pass@host or nats://token@host.
        var userInfo = Uri.UnescapeDataString(Server.UserInfo);
        if (string.IsNullOrEmpty(userInfo))
        {
            return (null, null, null);
        }

        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (null, null, userInfo) : (userInfo[..colon], userInfo[(colon + 1)..], null);
    }
}
