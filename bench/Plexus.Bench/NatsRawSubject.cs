using System.Threading.Channels;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// The floor of a transport over NATS: plain NATS request/reply through the same nats-server, on the official client
/// (NATS.Client.Core 3.3.2) doing the least it can: no headers, no flow control, no framing of its own, payloads
/// written with its raw serializer and read as their length (<see cref="NatsRawLength"/>). A responder connection
/// subscribes three subjects and answers on each message's reply subject (<see cref="NatsRawResponder"/>); one
/// client connection carries every caller, the stream and the bulk transfers.
/// <list type="bullet">
/// <item>unary: <c>RequestAsync</c> of 64 bytes, answered by one 64-byte reply; concurrent callers share the client connection.</item>
/// <item>stream: one empty publish with the client's stream inbox as reply subject, answered by 100,000 publishes of 16 bytes to it; the client reads them one by one and stops at the 100,000th.</item>
/// <item>bulk: the 64 MiB payload as publishes of the server's <c>max_payload</c>, the last one a <c>RequestAsync</c>, answered with the 8-byte byte count.</item>
/// <item>serving: NATS core has no streams, so each client connection subscribes one inbox, every request names it as
/// reply subject, the responder publishes each token to it, and the client sorts the tokens by the stream number
/// they carry (<see cref="ServingToken"/>), one reading loop per connection. No flow control.</item>
/// </list>
/// </summary>
internal sealed class NatsRawSubject : IBenchSubject, IServingSubject
{
    public const string SubjectName = BenchNames.NatsRaw;

    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    // No timeout of the client's own: the runner's budget decides when a transfer hangs, as for every subject.
    private static readonly NatsSubOpts AckOpts = new() { Timeout = Timeout.InfiniteTimeSpan };

    private readonly Uri _server;
    private readonly string _prefix;
    private NatsConnection? _responderConnection;
    private NatsRawResponder? _responder;
    private NatsConnection? _client;
    private INatsSub<int>? _streamInbox;

    /// <param name="server">The nats-server, on loopback.</param>
    public NatsRawSubject(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;

        // Unique per run, so that two benches on one server never answer each other.
        _prefix = "plexus.bench.raw." + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()));
    }

    public string Name => SubjectName;

    public string? ServingUnsupported => null;

    public string? ServingNote => "NATS core has no streams: each client connection subscribes one inbox that every request names as its reply subject, and the client sorts the tokens by the stream number they carry. CPU per token includes the nats-server's when the bench started it (not when --Plexus:Transports:Nats:Url names one).";

    private string ServingSubject => _prefix + ".serving";

    private string UnarySubject => _prefix + ".unary";

    private string StreamSubject => _prefix + ".stream";

    private string BulkSubject => _prefix + ".bulk";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _responderConnection = await ConnectAsync("responder", cancellationToken);
            _responder = await NatsRawResponder.StartAsync(_responderConnection, UnarySubject, StreamSubject, BulkSubject, ServingSubject, cancellationToken);
            _client = await ConnectAsync("client", cancellationToken);
            _streamInbox = await _client.SubscribeCoreAsync(_client.NewInbox(), serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        }
        catch (NatsException ex)
        {
            throw new BenchFailedException($"{Name}: the nats-server at {_server.Authority} could not be used: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    public ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IUnaryCaller>(new NatsRawUnaryCaller(Started(_client), UnarySubject));

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        var client = Started(_client);
        var inbox = Started(_streamInbox);
        var reader = inbox.Msgs;
        await client.PublishAsync(StreamSubject, replyTo: inbox.Subject, cancellationToken: cancellationToken);
        long messages = 0;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            // Each message as the client hands it over, as a receiver would walk them.
            while (reader.TryRead(out var msg))
            {
                if (msg.Data != BenchSizes.StreamMessageBytes)
                {
                    throw new BenchFailedException($"{Name} stream: message {messages} has {msg.Data} bytes, not {BenchSizes.StreamMessageBytes}.");
                }

                if (++messages == BenchSizes.StreamMessages)
                {
                    return messages;
                }
            }
        }

        throw new BenchFailedException($"{Name} stream: the subscription ended after {messages} messages.");
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        var client = Started(_client);
        var payload = BenchPayloads.Bulk;
        var chunk = client.ServerInfo?.MaxPayload ?? 1024 * 1024;
        try
        {
            // Every chunk but the last is a plain publish, copied into the client's write buffer as any publish is;
            // the last carries the reply subject, so the responder acknowledges once all of it has arrived.
            var offset = 0;
            for (; payload.Length - offset > chunk; offset += chunk)
            {
                await client.PublishAsync(BulkSubject, payload.Slice(offset, chunk), serializer: Raw, cancellationToken: cancellationToken);
            }

            var ack = await client.RequestAsync(BulkSubject, payload[offset..], requestSerializer: Raw, replySerializer: NatsRawAck.Instance, replyOpts: AckOpts, cancellationToken: cancellationToken);
            return ack.Data >= 0
                ? ack.Data
                : throw new BenchFailedException($"{Name} bulk: the acknowledgement does not have {BenchSizes.BulkAckBytes} bytes.");
        }
        catch (NatsException ex)
        {
            throw new BenchFailedException($"{Name} bulk: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>One NATS connection per connection of the plan, each with its inbox subscribed (and the server sure of it) before it returns.</summary>
    public async ValueTask<IServingClient> OpenServingAsync(ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(pacer);
        var responder = Started(_responder);
        responder.Pacer = pacer;
        var serving = new ServingClient(this, plan);
        try
        {
            for (var i = 0; i < plan.Connections; i++)
            {
                await serving.ConnectAsync(cancellationToken);
            }

            return serving;
        }
        catch (NatsException ex)
        {
            await serving.DisposeAsync();
            throw new BenchFailedException($"{Name} serving: {ex.GetType().Name}: {ex.Message}", ex);
        }
        catch
        {
            await serving.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_responder is not null)
        {
            await _responder.DisposeAsync();
        }

        if (_streamInbox is not null)
        {
            await _streamInbox.DisposeAsync();
        }

        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_responderConnection is not null)
        {
            await _responderConnection.DisposeAsync();
        }
    }

    private static T Started<T>(T? value)
        where T : class =>
        value ?? throw new InvalidOperationException($"{BenchNames.NatsRaw} is not started.");

    // The client's defaults, but a full subscription channel waits instead of dropping the newest message: a dropped
    // stream message would hang the measurement. Credentials in the URL (nats://user:password@host) are the client's
    // to read.
    private async Task<NatsConnection> ConnectAsync(string role, CancellationToken cancellationToken)
    {
        var connection = new NatsConnection(new NatsOpts
        {
            Url = _server.AbsoluteUri,
            Name = $"plexus-bench-{BenchNames.NatsRaw}-{role}",
            SubPendingChannelFullMode = BoundedChannelFullMode.Wait,
        });
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The serving scenario's client: per connection, a NATS connection, its inbox and the loop that reads it.</summary>
    private sealed class ServingClient(NatsRawSubject subject, ServingPlan plan) : IServingClient
    {
        private readonly List<Connection> _connections = [];
        private readonly TaskCompletionSource?[] _streams = new TaskCompletionSource?[plan.Streams];
        private ServingLog? _log;

        public async ValueTask ConnectAsync(CancellationToken cancellationToken)
        {
            var connection = await subject.ConnectAsync("serving", cancellationToken);
            try
            {
                var inbox = await connection.SubscribeCoreAsync(connection.NewInbox(), serializer: NatsServingTokenReader.Instance, cancellationToken: cancellationToken);
                await connection.PingAsync(cancellationToken);
                var reading = Task.Run(() => ReadAsync(inbox), CancellationToken.None);
                _connections.Add(new Connection(connection, inbox, reading));
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        public async ValueTask RunStreamAsync(ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _log) is null)
            {
                Volatile.Write(ref _log, log);
            }

            var stream = request.Stream;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _streams[stream], done);
            var payload = request.ToArray();
            var via = _connections[connection % _connections.Count];
            log.Sent(stream);
            await via.Nats.PublishAsync(subject.ServingSubject, (ReadOnlyMemory<byte>)payload, replyTo: via.Inbox.Subject, serializer: Raw, cancellationToken: cancellationToken);
            await done.Task.WaitAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections)
            {
                await connection.Inbox.DisposeAsync();
                try
                {
                    await connection.Reading.WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (TimeoutException)
                {
                    // The loop ends with its subscription; the connection's disposal below stops it at the latest.
                }

                await connection.Nats.DisposeAsync();
            }

            if (subject._responder is { } responder)
            {
                responder.Pacer = null;
            }
        }

        // Every token of a connection's streams comes through here: recorded against the stream it names, and the
        // stream done at its last token. A token that does not fit its stream fails that stream only.
        private async Task ReadAsync(INatsSub<NatsServingToken> inbox)
        {
            var reader = inbox.Msgs;
            try
            {
                while (await reader.WaitToReadAsync())
                {
                    while (reader.TryRead(out var msg))
                    {
                        // A stream is known once its request is on its way; the log was set before that.
                        var token = msg.Data;
                        if ((uint)token.Stream >= (uint)_streams.Length || Volatile.Read(ref _streams[token.Stream]) is not { } done || done.Task.IsCompleted || Volatile.Read(ref _log) is not { } log)
                        {
                            continue;
                        }

                        var sequence = log.Expected(token.Stream);
                        if (sequence >= plan.Tokens || token.Sequence != sequence || token.Length != plan.TokenBytes)
                        {
                            done.TrySetException(ServingToken.Unexpected(token.Stream, sequence));
                            continue;
                        }

                        log.Arrived(token.Stream);
                        if (sequence == plan.Tokens - 1)
                        {
                            done.TrySetResult();
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or ChannelClosedException or NatsException)
            {
                // The subscription ended: the client is being disposed.
            }
        }

        private sealed record Connection(NatsConnection Nats, INatsSub<NatsServingToken> Inbox, Task Reading);
    }
}
