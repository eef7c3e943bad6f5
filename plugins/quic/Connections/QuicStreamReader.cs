using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Plexus.Transport.Quic.Connections;

/// <summary>A stream's input: a pipe reader that returns QUIC flow-control credit for what is consumed.</summary>
internal sealed class QuicStreamReader(QuicStream stream, PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _last;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var reading = inner.ReadAsync(cancellationToken);
        if (!reading.IsCompletedSuccessfully)
        {
            return AwaitAsync(reading);
        }

        var result = reading.Result;
        _last = result.Buffer;
        return new ValueTask<ReadResult>(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (inner.TryRead(out result))
        {
            _last = result.Buffer;
            return true;
        }

        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var bytes = _last.Slice(_last.Start, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
        stream.Consumed(bytes);
    }

    // Pooled: a token stream's reader waits once per token, and a box per wait was most of what it allocated.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> reading)
    {
        var result = await reading.ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        stream.ReaderCompleted();
    }
}
