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
/// </list>
/// </summary>
internal sealed class NatsRawSubject : IBenchSubject
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

    private string UnarySubject => _prefix + ".unary";

    private string StreamSubject => _prefix + ".stream";

    private string BulkSubject => _prefix + ".bulk";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _responderConnection = await ConnectAsync("responder", cancellationToken);
            _responder = await NatsRawResponder.StartAsync(_responderConnection, UnarySubject, StreamSubject, BulkSubject, cancellationToken);
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
}
