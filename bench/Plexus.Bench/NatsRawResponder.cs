using System.Buffers.Binary;
using System.Threading.Channels;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// The nats-raw server side: one NATS.Client.Core connection subscribed to the unary, stream and bulk subjects with
/// <see cref="INatsConnection.SubscribeCoreAsync{T}"/>, one loop per subscription reading its channel and answering
/// on each message's reply subject with the client's raw serializer. Payloads are never copied out of the read
/// buffer (<see cref="NatsRawLength"/>): requests and bulk chunks are only counted.
/// </summary>
internal sealed class NatsRawResponder : IAsyncDisposable
{
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    private readonly NatsConnection _connection;
    private readonly INatsSub<int> _unary;
    private readonly INatsSub<int> _stream;
    private readonly INatsSub<int> _bulk;
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _message = new byte[BenchSizes.StreamMessageBytes];
    private readonly byte[] _ack = new byte[BenchSizes.BulkAckBytes];
    private Task _serving = Task.CompletedTask;

    private NatsRawResponder(NatsConnection connection, INatsSub<int> unary, INatsSub<int> stream, INatsSub<int> bulk)
    {
        _connection = connection;
        _unary = unary;
        _stream = stream;
        _bulk = bulk;
    }

    /// <summary>
    /// Subscribes the three subjects and starts answering. Returns once the server has the subscriptions: the
    /// <c>PING</c> after the <c>SUB</c>s is answered only after them, so a caller on another connection never meets
    /// "no responders".
    /// </summary>
    public static async Task<NatsRawResponder> StartAsync(NatsConnection connection, string unarySubject, string streamSubject, string bulkSubject, CancellationToken cancellationToken)
    {
        var unary = await connection.SubscribeCoreAsync(unarySubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        var stream = await connection.SubscribeCoreAsync(streamSubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        var bulk = await connection.SubscribeCoreAsync(bulkSubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        await connection.PingAsync(cancellationToken);

        var responder = new NatsRawResponder(connection, unary, stream, bulk);
        var stopping = responder._stopping.Token;
        responder._serving = Task.WhenAll(
            Task.Run(() => responder.ServeUnaryAsync(stopping), CancellationToken.None),
            Task.Run(() => responder.ServeStreamAsync(stopping), CancellationToken.None),
            Task.Run(() => responder.ServeBulkAsync(stopping), CancellationToken.None));
        return responder;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _unary.DisposeAsync();
            await _stream.DisposeAsync();
            await _bulk.DisposeAsync();
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or ChannelClosedException or NatsException or InvalidDataException or TimeoutException)
        {
            // The loops end with their subscriptions; what went wrong on the way was reported by the client side.
        }

        _stopping.Dispose();
    }

    // 64 bytes back per request, one publish each: the client's write loop batches what piles up meanwhile.
    private async Task ServeUnaryAsync(CancellationToken stopping)
    {
        var reader = _unary.Msgs;
        while (await reader.WaitToReadAsync(stopping))
        {
            while (reader.TryRead(out var msg))
            {
                if (msg.Data != BenchSizes.UnaryRequestBytes)
                {
                    throw new InvalidDataException($"The unary request has {msg.Data} bytes.");
                }

                await msg.ReplyAsync(BenchPayloads.UnaryResponse, serializer: Raw, cancellationToken: stopping);
            }
        }
    }

    // 100,000 publishes of 16 bytes to the caller's reply subject; the count is the only end the caller gets, as NATS
    // core has no end of stream. The message buffer is reused: a publish has copied it into the write buffer by the time it completes.
    private async Task ServeStreamAsync(CancellationToken stopping)
    {
        var reader = _stream.Msgs;
        var message = _message;
        while (await reader.WaitToReadAsync(stopping))
        {
            while (reader.TryRead(out var msg))
            {
                var replyTo = msg.ReplyTo ?? throw new InvalidDataException("A stream request came without a reply subject.");
                for (long i = 0; i < BenchSizes.StreamMessages; i++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(message, i);
                    await _connection.PublishAsync(replyTo, (ReadOnlyMemory<byte>)message, serializer: Raw, cancellationToken: stopping);
                }
            }
        }
    }

    // Bulk chunks are counted as they arrive; the one with a reply subject is the last of a transfer and is answered
    // with the 8-byte count.
    private async Task ServeBulkAsync(CancellationToken stopping)
    {
        var reader = _bulk.Msgs;
        long received = 0;
        while (await reader.WaitToReadAsync(stopping))
        {
            while (reader.TryRead(out var msg))
            {
                received += msg.Data;
                if (msg.ReplyTo is not null)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(_ack, received);
                    received = 0;
                    await msg.ReplyAsync((ReadOnlyMemory<byte>)_ack, serializer: Raw, cancellationToken: stopping);
                }
            }
        }
    }
}
