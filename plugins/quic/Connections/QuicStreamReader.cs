using System.Buffers;
using System.IO.Pipelines;

namespace Plexus.Transport.Quic.Connections;

/// <summary>A stream's input: a pipe reader that returns QUIC flow-control credit for what is consumed.</summary>
internal sealed class QuicStreamReader(QuicStream stream, PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _last;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _last = result.Buffer;
        return result;
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

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        stream.ReaderCompleted();
    }
}
