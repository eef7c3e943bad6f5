using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport's client: one NATS connection and one inbox subscription (<c>_INBOX.&lt;id&gt;.*</c>) shared by
/// every request. A request head is published to the serving process's request subject for the endpoint and instance,
/// with its reply subject under the inbox; frames come back there and are routed to the request's stream by the last
/// token.
/// </summary>
internal sealed class NatsClient : IRequestPlaneClient, INatsMessageHandler
{
    private readonly NatsTransportOptions _options;
    private readonly NatsConnection _connection;
    private readonly string _inbox;
    private readonly ConcurrentDictionary<long, NatsResponseStream> _streams = new();
    private readonly ConcurrentDictionary<Uri, NatsAddress> _addresses = new();
    private readonly Task _connecting;
    private readonly Timer _sweep;
    private long _nextId;
    private volatile bool _disposed;
    private int _closed;

    /// <summary>Creates the client and starts connecting in the background.</summary>
    /// <param name="options">The transport's options.</param>
    /// <param name="logger">Where connection events go.</param>
    public NatsClient(NatsTransportOptions options, ILogger logger)
    {
        _options = options;
        _connection = new NatsConnection(options.ToConnectionOptions(), logger);
        _inbox = NatsConnection.NewInbox();
        _connection.Subscribe(_inbox + ".*", queueGroup: null, this);
        _connection.Disconnected += OnDisconnected;
        _connecting = _connection.ConnectAsync(CancellationToken.None);
        _connecting.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        var period = TimeSpan.FromMilliseconds(Math.Max(10, options.KeepAliveInterval.TotalMilliseconds / 2));
        _sweep = new Timer(static s => ((NatsClient)s!).Sweep(), this, period, period);
    }

    /// <summary>The connection, for tests.</summary>
    internal NatsConnection Connection => _connection;

    /// <summary>Requests in flight.</summary>
    internal int InFlight => _streams.Count;

    /// <inheritdoc />
    public TransportHealth Health
    {
        get
        {
            if (_disposed)
            {
                return new TransportHealth(HealthStatus.Unhealthy, "The NATS client was disposed.");
            }

            return _connection.State switch
            {
                NatsConnectionState.Connected or NatsConnectionState.Created or NatsConnectionState.Connecting when !_connecting.IsFaulted => TransportHealth.Healthy,
                NatsConnectionState.Reconnecting => new TransportHealth(HealthStatus.Degraded, $"Reconnecting to NATS: {_connection.LastError}"),
                _ => new TransportHealth(HealthStatus.Unhealthy, $"Not connected to NATS: {_connection.LastError} Check {NatsTransportOptions.Key(nameof(NatsTransportOptions.Url))} and that the server runs."),
            };
        }
    }

    /// <inheritdoc />
    public async ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var target = _addresses.GetOrAdd(address, static a => NatsAddress.Parse(a));
        cancellationToken.ThrowIfCancellationRequested();

        // Checked before anything is copied or sent.
        var length = request.Payload.Length;
        if (length > _options.MaxPayloadBytes)
        {
            throw PlexusException.TooLarge("request payload", length, _options.MaxPayloadBytes, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
        }

        if (request.Deadline is { } deadline && deadline <= DateTimeOffset.UtcNow)
        {
            throw new PlexusException(PlexusErrorCode.Timeout, $"The request's deadline ({deadline.ToString("O", CultureInfo.InvariantCulture)}) passed before it was sent.");
        }

        var head = Head(request, length);
        await ConnectedAsync(cancellationToken).ConfigureAwait(false);

        var id = Interlocked.Increment(ref _nextId);
        var stream = new NatsResponseStream(this, id, string.Create(CultureInfo.InvariantCulture, $"{_inbox}.{id}"), target.ControlSubject, request.Endpoint, request.Deadline, _options);
        _streams[id] = stream;
        var headSent = false;
        try
        {
            var maxPayload = _connection.MaxPayload;
            if (head.Length >= maxPayload)
            {
                throw PlexusException.TooLarge("request headers", head.Length, maxPayload - 1, "the NATS server's max_payload");
            }

            var first = Math.Min(length, maxPayload - head.Length);
            var subject = NatsAddress.RequestSubject(target.Prefix, request.Endpoint, request.Instance, target.ServerId);
            await _connection.PublishAsync(subject, stream.Inbox, head, request.Payload.Slice(0, first), cancellationToken).ConfigureAwait(false);
            headSent = true;
            stream.Started(cancellationToken);

            if (first < length)
            {
                await SendPartsAsync(stream, target.ControlSubject, request.Payload.Slice(first), maxPayload, cancellationToken).ConfigureAwait(false);
            }

            return stream;
        }
        catch (NatsException exception)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Could not send the request to {request.Endpoint} over NATS: {exception.Message}", exception)
            {
                BeforeFirstByte = !headSent,
            };
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public void OnMessage(in NatsMessage message)
    {
        if (NatsRequester.TryReadId(message.Subject, out var id) && _streams.TryGetValue(id, out var stream))
        {
            stream.OnFrame(message);
        }
    }

    /// <summary>Sends a control frame to a server about one request.</summary>
    /// <param name="control">The server's control subject.</param>
    /// <param name="inbox">The request's reply subject, which the server knows it by.</param>
    /// <param name="kind">The frame kind.</param>
    /// <param name="name">A number header, or empty.</param>
    /// <param name="value">Its value.</param>
    public void SendControl(string control, string inbox, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, long value)
    {
        Span<byte> headers = stackalloc byte[160];
        var n = NatsWire.Small(headers, kind, name, value);
        try
        {
            // The reply subject also makes NATS answer 503 to this stream when the server is gone.
            _connection.Publish(control, inbox, headers[..n], ReadOnlySequence<byte>.Empty);
        }
        catch (NatsException)
        {
            // Closed or disconnected with a full buffer: the request fails through the disconnect or the keep-alive.
        }
    }

    /// <summary>A stream ended or was disposed; it no longer receives frames.</summary>
    /// <param name="stream">The stream.</param>
    public void Ended(NatsResponseStream stream)
    {
        _streams.TryRemove(new KeyValuePair<long, NatsResponseStream>(stream.Id, stream));
        if (_disposed && _streams.IsEmpty)
        {
            _ = CloseAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Streams already returned stay readable: the connection closes when the last one ends.
        _disposed = true;
        if (_streams.IsEmpty)
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        await _sweep.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task SendPartsAsync(NatsResponseStream stream, string control, ReadOnlySequence<byte> rest, long maxPayload, CancellationToken cancellationToken)
    {
        // Parts go to the server's control subject, which keeps the request by its reply subject.
        var headers = new byte[160];
        long seq = 1;
        stream.SendingParts(true);
        try
        {
            while (!rest.IsEmpty && !stream.HasEnded)
            {
                var n = NatsWire.Small(headers, NatsWire.Kind.Part, NatsWire.Seq, seq++);
                var chunk = Math.Min(rest.Length, maxPayload - n);
                await _connection.PublishAsync(control, stream.Inbox, headers.AsMemory(0, n), rest.Slice(0, chunk), cancellationToken).ConfigureAwait(false);
                rest = rest.Slice(chunk);
            }
        }
        finally
        {
            stream.SendingParts(false);
        }
    }

    private ReadOnlyMemory<byte> Head(OutgoingRequest request, long length)
    {
        var writer = new NatsHeaderWriter().Start();
        Check("request id", request.RequestId);
        writer.Add("Plexus-Request-Id", request.RequestId);
        if (request.Deadline is { } deadline)
        {
            writer.Add("Plexus-Deadline", deadline.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        }

        writer.Add(NatsWire.Window, _options.WindowBytes)
            .Add(NatsWire.KeepAlive, (long)_options.KeepAliveInterval.TotalMilliseconds)
            .Add(NatsWire.Length, length);
        foreach (var (name, value) in request.Headers)
        {
            if (!NatsHeaderWriter.IsValidName(name) || NatsWire.IsReserved(name))
            {
                throw new ArgumentException($"'{name}' cannot be a header name over NATS: use visible ASCII without ':', not starting with 'Plexus-' or 'Nats-'.", nameof(request));
            }

            Check($"header '{name}'", value);
            writer.Add(name, value);
        }

        return writer.End();
    }

    private static void Check(string what, string value)
    {
        if (!NatsHeaderWriter.IsValidValue(value))
        {
            throw new ArgumentException($"The {what} contains a line break, which NATS headers cannot carry.", nameof(value));
        }
    }

    private async Task ConnectedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Could not connect to NATS: {exception.Message}", exception) { BeforeFirstByte = true };
        }

        // While reconnecting, fail fast: the caller may route elsewhere, and a buffered request would only wait.
        var state = _connection.State;
        if (state != NatsConnectionState.Connected)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Not connected to NATS ({state}): {_connection.LastError}") { BeforeFirstByte = true };
        }
    }

    private void OnDisconnected(string reason)
    {
        foreach (var stream in _streams.Values)
        {
            stream.Fail(new PlexusException(PlexusErrorCode.Unavailable, $"The NATS connection was lost while the request was in flight: {reason}"), cancelServer: false);
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var stream in _streams.Values)
        {
            stream.Sweep(now);
        }
    }
}
