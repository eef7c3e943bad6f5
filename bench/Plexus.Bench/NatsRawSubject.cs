using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Plexus.Bench;

/// <summary>
/// The floor of a transport over NATS: the NATS text protocol on plain sockets through the same nats-server, with no
/// headers, no flow control and no framing of its own. A responder connection subscribes three subjects and answers
/// on each message's reply subject; every client has its own connection subscribed to its own inbox.
/// <list type="bullet">
/// <item>unary: PUB of 64 bytes with the caller's inbox as reply subject, answered by one 64-byte PUB; one connection per caller.</item>
/// <item>stream: one PUB answered by 100,000 PUBs of 16 bytes to the inbox, packed into 64 KiB sends; the client walks the MSGs one by one.</item>
/// <item>bulk: the 64 MiB payload as PUBs of the server's <c>max_payload</c> (the last one with a reply subject), answered by an 8-byte PUB with the byte count.</item>
/// </list>
/// </summary>
internal sealed class NatsRawSubject : IBenchSubject
{
    public const string SubjectName = BenchNames.NatsRaw;

    private const int CallerBufferBytes = 16 * 1024;
    private const int StreamBufferBytes = 64 * 1024;

    private readonly Uri _server;
    private readonly string _prefix;
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _bulkAck = new byte[BenchSizes.BulkAckBytes];
    private NatsRawConnection? _responderConnection;
    private Task? _responding;
    private NatsRawConnection? _streamConnection;
    private byte[]? _streamRequest;
    private NatsRawConnection? _bulkConnection;
    private string? _bulkInbox;
    private int _inboxes;

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
        var setup = $"SUB {UnarySubject} {NatsRawResponder.UnarySid}\r\nSUB {StreamSubject} {NatsRawResponder.StreamSid}\r\nSUB {BulkSubject} {NatsRawResponder.BulkSid}\r\n";
        _responderConnection = await NatsRawConnection.ConnectAsync(_server, StreamBufferBytes, setup, cancellationToken);
        var responder = new NatsRawResponder(_responderConnection);
        var stopping = _stopping.Token;
        _responding = Task.Run(() => responder.RunAsync(stopping), CancellationToken.None);
    }

    public async ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken)
    {
        var inbox = NextInbox();
        var connection = await NatsRawConnection.ConnectAsync(_server, CallerBufferBytes, $"SUB {inbox} 1\r\n", cancellationToken);
        return new NatsRawUnaryCaller(connection, UnarySubject, inbox);
    }

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        var connection = _streamConnection;
        if (connection is null)
        {
            var inbox = NextInbox();
            connection = _streamConnection = await NatsRawConnection.ConnectAsync(_server, StreamBufferBytes, $"SUB {inbox} 1\r\n", cancellationToken);
            _streamRequest = Encoding.ASCII.GetBytes($"PUB {StreamSubject} {inbox} 0\r\n\r\n");
        }

        await connection.SendAsync(_streamRequest, cancellationToken);
        long messages = 0;
        while (true)
        {
            // Walk what arrived message by message, as a receiver would; read more only when the next is incomplete.
            while (connection.TryReadMsg(out var msg) && connection.Buffered >= msg.FrameLength)
            {
                if (msg.Size != BenchSizes.StreamMessageBytes)
                {
                    throw new BenchFailedException($"{Name} stream: message {messages} has {msg.Size} bytes, not {BenchSizes.StreamMessageBytes}.");
                }

                connection.Consume(msg.FrameLength);
                if (++messages == BenchSizes.StreamMessages)
                {
                    return messages;
                }
            }

            await connection.FillAsync(cancellationToken);
        }
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        var connection = _bulkConnection;
        if (connection is null)
        {
            _bulkInbox = NextInbox();
            connection = _bulkConnection = await NatsRawConnection.ConnectAsync(_server, CallerBufferBytes, $"SUB {_bulkInbox} 1\r\n", cancellationToken);
        }

        var inbox = _bulkInbox;
        var payload = BenchPayloads.Bulk;
        var chunk = connection.MaxPayload;

        // Each chunk is its PUB line, the payload slice straight from the 64 MiB array, and CRLF sent with the next
        // line: two sends per chunk, a few bytes allocated per chunk of max_payload (1 MiB by default).
        var pending = string.Empty;
        for (var offset = 0; offset < payload.Length; offset += chunk)
        {
            var length = Math.Min(chunk, payload.Length - offset);
            var last = offset + length == payload.Length;
            var line = last
                ? $"{pending}PUB {BulkSubject} {inbox} {length.ToString(CultureInfo.InvariantCulture)}\r\n"
                : $"{pending}PUB {BulkSubject} {length.ToString(CultureInfo.InvariantCulture)}\r\n";
            await connection.SendAsync(Encoding.ASCII.GetBytes(line), cancellationToken);
            await connection.SendAsync(payload.Slice(offset, length), cancellationToken);
            pending = "\r\n";
        }

        await connection.SendAsync("\r\n"u8.ToArray(), cancellationToken);
        while (true)
        {
            if (connection.TryReadMsg(out var msg) && connection.Buffered >= msg.FrameLength)
            {
                if (msg.Size != BenchSizes.BulkAckBytes)
                {
                    throw new BenchFailedException($"{Name} bulk: the acknowledgement has {msg.Size} bytes, not {BenchSizes.BulkAckBytes}.");
                }

                connection.Span.Slice(msg.LineLength, BenchSizes.BulkAckBytes).CopyTo(_bulkAck);
                connection.Consume(msg.FrameLength);
                return BinaryPrimitives.ReadInt64LittleEndian(_bulkAck);
            }

            await connection.FillAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _responderConnection?.Dispose();
        _streamConnection?.Dispose();
        _bulkConnection?.Dispose();
        try
        {
            await (_responding ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException or IOException or InvalidDataException or TimeoutException)
        {
            // The responder ends with its connection; what went wrong on the way was reported by the client side.
        }

        _stopping.Dispose();
    }

    private string NextInbox() => $"_INBOX.{_prefix}.{Interlocked.Increment(ref _inboxes).ToString(CultureInfo.InvariantCulture)}";
}
