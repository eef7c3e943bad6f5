using System.Buffers;
using System.Runtime.CompilerServices;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>Framing the ended messages into the stream: runs of small whole messages as MESSAGES frames, the rest as DATA frames.</summary>
internal sealed partial class QuicResponseWriter
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendEndedAsync(bool final, CancellationToken cancellationToken)
    {
        // Messages held back go first; from here on only this path writes to the stream.
        TakeHeld();
        var index = 0;
        try
        {
            var unflushed = 0;
            while (index < _ended.Count)
            {
                var piece = _ended[index];
                if (piece.Whole && piece.Length <= _packLimit)
                {
                    var next = WriteRun(_ended, index);
                    Volatile.Write(ref _responded, true);
                    for (var i = index; i < next; i++)
                    {
                        unflushed += _ended[i].Length + Slot;
                    }

                    unflushed += 32;
                    index = next;
                }
                else
                {
                    var offset = piece.Offset;
                    var remaining = piece.Length;
                    do
                    {
                        var n = Math.Min(remaining, _maxBody);
                        var last = n == remaining;
                        var body = piece.Buffer is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(piece.Buffer, offset, n);
                        QuicFrames.WriteData(_codec, _output, last && piece.EndsMessage ? QuicWire.EndMessage : (byte)0, body);
                        Volatile.Write(ref _responded, true);
                        offset += n;
                        remaining -= n;
                        unflushed += n + 32;
                        if (unflushed >= FlushBytes)
                        {
                            unflushed = 0;
                            await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                    while (remaining > 0);

                    index++;
                    if (piece.ReturnsBuffer && piece.Buffer is not null)
                    {
                        _pool.Return(piece.Buffer);
                    }
                }

                if (unflushed >= FlushBytes)
                {
                    unflushed = 0;
                    await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            if (!final)
            {
                await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // The piece that failed and those after it were not sent; the stream holds no reference to their buffers.
            for (; index < _ended.Count; index++)
            {
                if (_ended[index] is { ReturnsBuffer: true, Buffer: { } buffer })
                {
                    _pool.Return(buffer);
                }
            }

            _ended.Clear();
            throw;
        }

        _ended.Clear();
        if (_buffer is not null && _start == _position)
        {
            // Everything written so far is on its way: the buffer starts over.
            _start = _position = Slot;
        }
    }

    // The messages from index that share one MESSAGES frame: whole, small, back to back in one buffer (each behind its
    // length), and together within the client's frame body limit. The body is that stretch of the buffer. A message on
    // its own goes as a DATA frame: a MESSAGES frame of one would only be longer.
    private (int Count, ReadOnlySequence<byte> Body) Run(List<Piece> pieces, int index)
    {
        var first = pieces[index];
        var start = first.Offset - Slot;
        var end = start;
        var count = 0;
        for (var i = index; i < pieces.Count; i++)
        {
            var piece = pieces[i];
            if (!piece.Whole || piece.Length > _packLimit || piece.Buffer != first.Buffer || piece.Offset - Slot != end
                || piece.Offset + piece.Length - start > _maxBody)
            {
                break;
            }

            end = piece.Offset + piece.Length;
            count++;
            if (piece.ReturnsBuffer)
            {
                break;
            }
        }

        return (count, new ReadOnlySequence<byte>(first.Buffer!, start, end - start));
    }

    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        if (_exchange.AbortError is { } aborted)
        {
            throw aborted;
        }

        try
        {
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (QuicStreamAbortedException)
        {
            // STOP_SENDING: the client gave up on the response.
            throw _exchange.ClientGone();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw _exchange.AbortError ?? _exchange.ClientGone();
        }
    }
}
