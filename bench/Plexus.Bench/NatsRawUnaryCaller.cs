using System.Runtime.CompilerServices;
using System.Text;

namespace Plexus.Bench;

/// <summary>
/// A nats-raw unary caller: its own connection subscribed to its own inbox, one PUB with that inbox as reply subject
/// and one MSG back at a time. The request bytes are built once.
/// </summary>
internal sealed class NatsRawUnaryCaller : IUnaryCaller
{
    private readonly NatsRawConnection _connection;
    private readonly byte[] _request;

    public NatsRawUnaryCaller(NatsRawConnection connection, string subject, string inbox)
    {
        _connection = connection;
        var line = Encoding.ASCII.GetBytes($"PUB {subject} {inbox} {BenchSizes.UnaryRequestBytes}\r\n");
        _request = new byte[line.Length + BenchSizes.UnaryRequestBytes + 2];
        line.CopyTo(_request, 0);
        BenchPayloads.UnaryRequest.Span.CopyTo(_request.AsSpan(line.Length));
        "\r\n"u8.CopyTo(_request.AsSpan(line.Length + BenchSizes.UnaryRequestBytes));
    }

    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per call for any subject.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CallAsync(CancellationToken cancellationToken)
    {
        await _connection.SendAsync(_request, cancellationToken);
        while (true)
        {
            if (_connection.TryReadMsg(out var msg) && _connection.Buffered >= msg.FrameLength)
            {
                _connection.Consume(msg.FrameLength);
                if (msg.Size != BenchSizes.UnaryResponseBytes)
                {
                    throw new BenchFailedException($"{BenchNames.NatsRaw} unary: the response has {msg.Size} bytes, not {BenchSizes.UnaryResponseBytes}.");
                }

                return;
            }

            await _connection.FillAsync(cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        return default;
    }
}
