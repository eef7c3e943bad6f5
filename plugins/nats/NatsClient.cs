using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport's client: one NATS connection and one inbox subscription (<c>_INBOX.&lt;id&gt;.*</c>) shared by
/// every request. A request head is published to the serving process's request subject for the endpoint and instance,
/// with its reply subject under the inbox; frames come back there and are routed to the request's stream by the last
/// token.
/// </summary>
internal sealed class NatsClient : IRequestPlaneClient, INatsMessageReceiver
{
    private readonly NatsTransportOptions _options;
    private readonly NatsLink _link;
    private readonly string _inbox;
    private readonly ConcurrentDictionary<long, NatsResponseStream> _streams = new();
    private readonly ConcurrentDictionary<Uri, NatsAddress> _addresses = new();
    private readonly ConcurrentDictionary<long, HeadBatch> _batches = new();
    private readonly NatsHeadBatcher _heads;
    private readonly Lock _connectGate = new();
    private Task _connecting;
    private long _connectFailedAt;

    // NATS.Client.Core holds subscriptions weakly: one nobody references stops receiving when it is collected.
    private NatsSubscription? _inboxSubscription;
    private readonly Timer _sweep;
    private long _nextId;

    // Requests in flight, kept apart from the dictionary, whose Count takes every lock.
    private int _inFlight;
    private volatile bool _disposed;
    private int _closed;

    /// <summary>Creates the client and starts connecting in the background.</summary>
    /// <param name="options">The transport's options.</param>
    /// <param name="loggers">Where the connection and the client library log.</param>
    public NatsClient(NatsTransportOptions options, ILoggerFactory loggers)
    {
        _options = options;
        _link = new NatsLink(options, loggers, "client");
        // Not the connection's own inbox prefix: NATS.Client.Core routes subjects under that one by exact name to its
        // request/reply muxer, and this subscription is a wildcard.
        _inbox = "_INBOX." + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 22);
        _heads = new NatsHeadBatcher(this, _link, _inbox);
        _link.Disconnected += OnDisconnected;
        _connecting = StartConnecting();
        var period = TimeSpan.FromMilliseconds(Math.Max(10, options.KeepAliveInterval.TotalMilliseconds / 2));
        _sweep = new Timer(static s => ((NatsClient)s!).Sweep(), this, period, period);
    }

    /// <summary>The connection, for tests.</summary>
    internal NatsLink Link => _link;

    /// <summary>The heads frames sent, for tests.</summary>
    internal long HeadBatchesSent => _heads.BatchesSent;

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

            if (Volatile.Read(ref _connecting).IsFaulted)
            {
                return new TransportHealth(HealthStatus.Unhealthy, $"Not connected to NATS: {_link.LastError} Check {NatsTransportOptions.Key(nameof(NatsTransportOptions.Url))}, the credentials, and that nats-server runs.");
            }

            if (_link.IsConnected || !Volatile.Read(ref _connecting).IsCompleted)
            {
                return _link.LameDuck
                    ? new TransportHealth(HealthStatus.Degraded, "nats-server is in lame-duck mode; the connection moves to another server when it closes.")
                    : TransportHealth.Healthy;
            }

            return new TransportHealth(HealthStatus.Degraded, $"Reconnecting to NATS: {_link.LastError}");
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
        var stream = new NatsResponseStream(this, id, string.Create(CultureInfo.InvariantCulture, $"{_inbox}.{id}"), target.ControlSubject, request.Endpoint, request.Deadline, _options) { Target = target };
        _streams[id] = stream;
        Interlocked.Increment(ref _inFlight);
        var headSent = false;
        try
        {
            var maxPayload = _link.MaxPayload;
            var headLength = head.GetBytesLength();
            if (headLength >= maxPayload)
            {
                throw PlexusException.TooLarge("request headers", headLength, maxPayload - 1, "the NATS server's max_payload");
            }

            var first = Math.Min(length, maxPayload - headLength);
            var subject = NatsAddress.RequestSubject(target.Prefix, request.Endpoint, request.Instance, target.ServerId);
            // Gathered only while other requests are in flight (alone, a head would wait for nobody), or while callers
            // woken by one answer frame run in turn, whose heads go together when the last has run.
            if (first == length && target.ReadsBatchedHeads && (Volatile.Read(ref _inFlight) > 1 || _heads.IsCorkedHere) && _heads.TryAdd(subject, stream, head, request.Payload))
            {
                // Published with the other heads to the subject gathered meanwhile, by the gatherer's work item; a
                // failure to publish fails the stream as this call would have failed.
                headSent = true;
                stream.Started(cancellationToken);
                return stream;
            }

            await _link.PublishAsync(subject, stream.Inbox, head, request.Payload.Slice(0, first), cancellationToken).ConfigureAwait(false);
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
    public ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        // _INBOX.<id>.<n>: the last token names the request.
        var dot = subject.LastIndexOf('.');
        if (dot >= 0 && long.TryParse(subject.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            if (_streams.TryGetValue(id, out var stream))
            {
                stream.OnFrame(headers, payload);
                LeaveBatch(stream);
            }
        }
        else if (dot >= 0 && subject.Length > dot + 2 && subject[dot + 1] == 'b' && long.TryParse(subject.AsSpan(dot + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var batchId))
        {
            // An answer to a heads frame as a whole: NATS's "no responders", or the server's error for a malformed one.
            if (_batches.TryRemove(batchId, out var batch))
            {
                foreach (var member in batch.Streams)
                {
                    if (member.IsIn(batch))
                    {
                        member.OnFrame(headers, payload);
                    }
                }
            }
        }
        else if (dot >= 0 && subject.AsSpan(dot + 1).SequenceEqual(NatsWire.Names.Lasts))
        {
            OnAnswers(headers, payload);
        }

        return default;
    }

    /// <summary>
    /// A <c>lasts</c> frame: the one-frame answers of several requests, each handed to its stream as if it had come
    /// alone. A malformed one is checked whole first: then every request it names (as far as it can be read) fails
    /// with <see cref="PlexusErrorCode.ProtocolError"/>, and none of its answers is delivered.
    /// </summary>
    private void OnAnswers(in ReadOnlySequence<byte> headers, in ReadOnlySequence<byte> payload)
    {
        string? problem;
        long count = -1;
        var batchesRead = false;
        try
        {
            var header = FrameHeader.Read(headers);
            count = header.Count;
            batchesRead = header.Batch;
            problem = header.Status != 0 ? $"NATS status {header.Status}"
                : header.Kind != FrameKind.Lasts ? "it is not a lasts frame"
                : BatchedAnswers.Check(payload, count);
        }
        catch (FormatException exception)
        {
            problem = exception.Message;
        }

        if (problem is not null)
        {
            FailNamed(payload, count, $"The server sent a malformed lasts frame: {problem}.");
            return;
        }

        // The callers waiting for these answers are woken together by one work item, which sends the requests they
        // make next as one heads frame: one wake-up for the frame instead of one per caller and two for their heads.
        AnswerDelivery? delivery = null;
        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            var (number, kind, refused, code, length) = BatchedAnswers.Read(payload, offset);
            offset += BatchedAnswers.EntryBytes;
            if (number <= long.MaxValue && _streams.TryGetValue((long)number, out var stream))
            {
                var frame = kind == BatchedAnswers.ErrorKind
                    ? new FrameHeader(FrameKind.Error, 0, 0, -1, -1, code, refused, -1, batchesRead)
                    : new FrameHeader(FrameKind.Last, 0, 0, -1, -1, 0, false, -1, batchesRead);
                if (stream.OnFrame(frame, payload.Slice(offset, length), deferWake: true))
                {
                    (delivery ??= new AnswerDelivery(_heads, (int)count)).Add(stream);
                }

                LeaveBatch(stream);
            }

            offset += length;
        }

        if (delivery is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(delivery, preferLocal: true);
        }
    }

    // The requests a malformed lasts frame names, as far as their numbers can be read, fail with a protocol error.
    private void FailNamed(in ReadOnlySequence<byte> payload, long count, string message)
    {
        long offset = 0;
        Span<byte> number = stackalloc byte[sizeof(ulong)];
        for (long i = 0; (count < 0 || i < count) && payload.Length - offset >= sizeof(ulong); i++)
        {
            payload.Slice(offset, sizeof(ulong)).CopyTo(number);
            var id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(number);
            if (id <= long.MaxValue && _streams.TryGetValue((long)id, out var stream))
            {
                stream.Fail(PlexusException.Protocol($"{message} (request to {stream.Endpoint})"), cancelServer: true);
            }

            if (payload.Length - offset < BatchedAnswers.EntryBytes)
            {
                break;
            }

            var (_, _, _, _, length) = BatchedAnswers.Read(payload, offset);
            offset += BatchedAnswers.EntryBytes + (long)(uint)length;
        }
    }

    /// <summary>Sends a control frame to a server about one request.</summary>
    /// <param name="control">The server's control subject.</param>
    /// <param name="inbox">The request's reply subject, which the server knows it by.</param>
    /// <param name="kind">The frame kind.</param>
    /// <param name="name">A number header, or <see langword="null"/>.</param>
    /// <param name="value">Its value.</param>
    public void SendControl(string control, string inbox, string kind, string? name, long value)
    {
        // The reply subject also makes NATS answer 503 to this stream when the server is gone. Not waited for: lost
        // with the connection, the request fails through the disconnect or the keep-alive.
        _link.Post(control, inbox, NatsWire.Headers(new NatsHeaders(), kind, name, value), ReadOnlySequence<byte>.Empty);
    }

    /// <summary>A heads frame is about to be published: its requests are kept under its number until answered.</summary>
    /// <param name="batch">The batch.</param>
    public void Sending(HeadBatch batch)
    {
        foreach (var stream in batch.Streams)
        {
            stream.JoinBatch(batch);
        }

        _batches[batch.Id] = batch;
    }

    /// <summary>A stream ended or was disposed; it no longer receives frames.</summary>
    /// <param name="stream">The stream.</param>
    public void Ended(NatsResponseStream stream)
    {
        LeaveBatch(stream);
        if (_streams.TryRemove(new KeyValuePair<long, NatsResponseStream>(stream.Id, stream)))
        {
            Interlocked.Decrement(ref _inFlight);
        }
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
        await _link.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ConnectAsync()
    {
        await _link.ConnectAsync(CancellationToken.None).ConfigureAwait(false);
        _inboxSubscription ??= await _link.SubscribeAsync(_inbox + ".*", null, this, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task SendPartsAsync(NatsResponseStream stream, string control, ReadOnlySequence<byte> rest, long maxPayload, CancellationToken cancellationToken)
    {
        // Parts go to the server's control subject, which keeps the request by its reply subject.
        var headers = new NatsHeaders();
        long seq = 1;
        stream.SendingParts(true);
        try
        {
            while (!rest.IsEmpty && !stream.HasEnded)
            {
                NatsWire.Headers(headers, NatsWire.Names.Part, NatsWire.Names.Seq, seq++);
                var chunk = Math.Min(rest.Length, maxPayload - headers.GetBytesLength());
                await _link.PublishAsync(control, stream.Inbox, headers, rest.Slice(0, chunk), cancellationToken).ConfigureAwait(false);
                rest = rest.Slice(chunk);
            }
        }
        finally
        {
            stream.SendingParts(false);
        }
    }

    private NatsHeaders Head(OutgoingRequest request, long length)
    {
        Check("request id", request.RequestId);
        var head = new NatsHeaders(request.Headers.Count + 6)
        {
            [NatsWire.Names.RequestId] = request.RequestId,
        };
        if (request.Deadline is { } deadline)
        {
            head[NatsWire.Names.Deadline] = deadline.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        }

        head[NatsWire.Names.Window] = NatsWire.Number(_options.WindowBytes);
        head[NatsWire.Names.KeepAlive] = NatsWire.Number((long)_options.KeepAliveInterval.TotalMilliseconds);
        head[NatsWire.Names.Length] = NatsWire.Number(length);

        // This client reads msgs frames (1) and lasts frames (2); a server that does not know the header sends data
        // frames as before, one from before lasts frames reads it as 1.
        head[NatsWire.Names.Packed] = "2";
        foreach (var (name, value) in request.Headers)
        {
            if (!NatsWire.IsValidHeaderName(name) || NatsWire.IsReserved(name))
            {
                throw new ArgumentException($"'{name}' cannot be a header name over NATS: use visible ASCII without ':', not starting with 'Plexus-' or 'Nats-'.", nameof(request));
            }

            Check($"header '{name}'", value);
            head[name] = value;
        }

        return head;
    }

    private static void Check(string what, string value)
    {
        if (!NatsWire.IsValidHeaderValue(value))
        {
            throw new ArgumentException($"The {what} contains a line break, which NATS headers cannot carry.", nameof(value));
        }
    }

    private Task StartConnecting()
    {
        var connecting = ConnectAsync();
        connecting.ContinueWith(
            static (t, s) =>
            {
                _ = t.Exception;
                Volatile.Write(ref ((NatsClient)s!)._connectFailedAt, Environment.TickCount64);
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
        return connecting;
    }

    private async Task ConnectedAsync(CancellationToken cancellationToken)
    {
        Task connecting;
        lock (_connectGate)
        {
            // NATS.Client.Core reconnects a connection it once had, not one it never got: a client whose first
            // attempt failed (nats-server not up yet) tries again, at most once per ReconnectWait.
            if (_connecting.IsFaulted && Environment.TickCount64 - Volatile.Read(ref _connectFailedAt) >= _options.ReconnectWait.TotalMilliseconds)
            {
                _connecting = StartConnecting();
            }

            connecting = _connecting;
        }

        try
        {
            await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Could not connect to NATS: {exception.Message}", exception) { BeforeFirstByte = true };
        }

        // While reconnecting, fail fast: the caller may route elsewhere, and a buffered request would only wait.
        if (!_link.IsConnected)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Not connected to NATS ({_link.Connection.ConnectionState}): {_link.LastError}") { BeforeFirstByte = true };
        }
    }

    private void OnDisconnected(string reason)
    {
        foreach (var stream in _streams.Values)
        {
            stream.Fail(new PlexusException(PlexusErrorCode.Unavailable, $"The NATS connection was lost while the request was in flight: {reason}"), cancelServer: false);
        }
    }

    // A request answered (or ended) no longer needs its batch; the batch goes when all of them are.
    private void LeaveBatch(NatsResponseStream stream)
    {
        if (stream.LeaveBatch() is { } batch && batch.Leave())
        {
            _batches.TryRemove(new KeyValuePair<long, HeadBatch>(batch.Id, batch));
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;

        // "No responders" comes at once; a batch whose requests were joined too late to leave it goes after a while.
        foreach (var (id, batch) in _batches)
        {
            if (now - batch.SentAt >= 3 * (long)_options.KeepAliveInterval.TotalMilliseconds)
            {
                _batches.TryRemove(new KeyValuePair<long, HeadBatch>(id, batch));
            }
        }

        foreach (var stream in _streams.Values)
        {
            stream.Sweep(now);
        }
    }
}
