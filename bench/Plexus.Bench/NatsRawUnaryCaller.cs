using System.Runtime.CompilerServices;
using NATS.Client.Core;

namespace Plexus.Bench;

/// <summary>
/// A nats-raw unary caller: <see cref="NatsConnection.RequestAsync{TRequest, TReply}"/> on the client connection every
/// caller shares, as an application shares one <see cref="NatsConnection"/>. <see cref="NatsOpts.RequestReplyMode"/> is
/// left at its default (<c>Direct</c> in 3.3.2): the connection's one wildcard inbox subscription, each reply handed
/// to its waiting request on the read loop.
/// </summary>
internal sealed class NatsRawUnaryCaller : IUnaryCaller
{
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    // No timeout of the client's own (5 s by default, one timer per request): the runner's budget decides when a
    // call hangs, as for every subject.
    private static readonly NatsSubOpts ReplyOpts = new() { Timeout = Timeout.InfiniteTimeSpan };

    private readonly NatsConnection _connection;
    private readonly string _subject;

    public NatsRawUnaryCaller(NatsConnection connection, string subject)
    {
        _connection = connection;
        _subject = subject;
    }

    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per call for any subject.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CallAsync(CancellationToken cancellationToken)
    {
        NatsMsg<int> reply;
        try
        {
            reply = await _connection.RequestAsync(_subject, BenchPayloads.UnaryRequest, requestSerializer: Raw, replySerializer: NatsRawLength.Instance, replyOpts: ReplyOpts, cancellationToken: cancellationToken);
        }
        catch (NatsException ex)
        {
            throw new BenchFailedException($"{BenchNames.NatsRaw} unary: {ex.GetType().Name}: {ex.Message}", ex);
        }

        if (reply.Data != BenchSizes.UnaryResponseBytes)
        {
            throw new BenchFailedException($"{BenchNames.NatsRaw} unary: the response has {reply.Data} bytes, not {BenchSizes.UnaryResponseBytes}.");
        }
    }

    // The connection is the subject's, shared by every caller.
    public ValueTask DisposeAsync() => default;
}
