using System.Buffers.Binary;
using System.Threading.Channels;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// The nats-raw server side: one NATS.Client.Core connection subscribed to the unary, stream, bulk and serving
/// subjects with <see cref="INatsConnection.SubscribeCoreAsync{T}"/>, one loop per subscription reading its channel and
/// answering on each message's reply subject with the client's raw serializer. Payloads are never copied out of the
/// read buffer (<see cref="NatsRawLength"/>): requests and bulk chunks are only counted.
/// </summary>
internal sealed class NatsRawResponder : IAsyncDisposable
{
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    private readonly NatsConnection _connection;
    private readonly INatsSub<int> _unary;
    private readonly INatsSub<int> _stream;
    private readonly INatsSub<int> _bulk;
    private readonly INatsSub<ServingRequest?> _serving;
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _message = new byte[BenchSizes.StreamMessageBytes];
    private readonly byte[] _ack = new byte[BenchSizes.BulkAckBytes];
    private Task _loops = Task.CompletedTask;
    private ServingPacer? _pacer;

    private NatsRawResponder(NatsConnection connection, INatsSub<int> unary, INatsSub<int> stream, INatsSub<int> bulk, INatsSub<ServingRequest?> serving)
    {
        _connection = connection;
        _unary = unary;
        _stream = stream;
        _bulk = bulk;
        _serving = serving;
    }

    /// <summary>The pacer of the serving measurement running now.</summary>
    public ServingPacer? Pacer
    {
        get => Volatile.Read(ref _pacer);
        set => Volatile.Write(ref _pacer, value);
    }

    /// <summary>
    /// Subscribes the four subjects and starts answering. Returns once the server has the subscriptions: the
    /// <c>PING</c> after the <c>SUB</c>s is answered only after them, so a caller on another connection never meets
    /// "no responders".
    /// </summary>
    public static async Task<NatsRawResponder> StartAsync(NatsConnection connection, string unarySubject, string streamSubject, string bulkSubject, string servingSubject, CancellationToken cancellationToken)
    {
        var unary = await connection.SubscribeCoreAsync(unarySubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        var stream = await connection.SubscribeCoreAsync(streamSubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        var bulk = await connection.SubscribeCoreAsync(bulkSubject, serializer: NatsRawLength.Instance, cancellationToken: cancellationToken);
        var serving = await connection.SubscribeCoreAsync(servingSubject, serializer: NatsServingRequestReader.Instance, cancellationToken: cancellationToken);
        await connection.PingAsync(cancellationToken);

        var responder = new NatsRawResponder(connection, unary, stream, bulk, serving);
        var stopping = responder._stopping.Token;
        responder._loops = Task.WhenAll(
            Task.Run(() => responder.ServeUnaryAsync(stopping), CancellationToken.None),
            Task.Run(() => responder.ServeStreamAsync(stopping), CancellationToken.None),
            Task.Run(() => responder.ServeBulkAsync(stopping), CancellationToken.None),
            Task.Run(() => responder.ServeServingAsync(stopping), CancellationToken.None));
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
            await _serving.DisposeAsync();
            await _loops.WaitAsync(TimeSpan.FromSeconds(5));
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

    // Each request starts a stream of its own that publishes its tokens to the request's reply subject, the first at
    // once and the next ones when the shared pacer says. The loop only starts streams, so one never waits for another.
    private async Task ServeServingAsync(CancellationToken stopping)
    {
        var reader = _serving.Msgs;
        while (await reader.WaitToReadAsync(stopping))
        {
            while (reader.TryRead(out var msg))
            {
                var replyTo = msg.ReplyTo ?? throw new InvalidDataException("A serving request came without a reply subject.");
                var request = msg.Data ?? throw new InvalidDataException("A serving request is not one.");
                var pacer = Pacer ?? throw new InvalidDataException("A serving request came with no serving measurement running.");
                _ = ServeTokensAsync(replyTo, request, pacer, stopping);
            }
        }
    }

    private async Task ServeTokensAsync(string replyTo, ServingRequest request, ServingPacer pacer, CancellationToken stopping)
    {
        try
        {
            // Reused for every token: a publish has copied it into the write buffer by the time it completes.
            var token = new byte[request.TokenBytes];
            using var paced = pacer.OpenStream(request.Stream, stopping);
            for (var sequence = 0; sequence < request.Tokens; sequence++)
            {
                if (sequence > 0)
                {
                    await paced.NextAsync();
                }

                ServingToken.Write(token, request.Stream, sequence);
                await _connection.PublishAsync(replyTo, (ReadOnlyMemory<byte>)token, serializer: Raw, cancellationToken: stopping);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or NatsException)
        {
            // The stream ends short; the client side counts it as not served.
        }
    }
}
