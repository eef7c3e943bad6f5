using System.Buffers;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic;

/// <summary>
/// Holding small messages back while the stream is busy: a flush that finds QUIC still holding bytes the stream was
/// last given does not frame its messages at once; they wait (as ended messages, in their buffers) until QUIC has taken
/// those bytes, and are then framed together, one MESSAGES frame for everything flushed meanwhile. The stream calls back
/// on the thread pool for that; the handler's own later flushes and its completion frame them first if they come sooner.
/// Held messages are bounded by one frame body, past which a flush frames them itself and waits for room as any does.
/// </summary>
internal sealed partial class QuicResponseWriter
{
    // Guards the held messages, and the stream's output while a callback frames them.
    private readonly Lock _holdGate = new();
    private readonly List<Piece> _held = [];
    private int _heldBytes;
    private bool _holdArmed;

    // Holds the ended messages when they are all small and whole, the stream still has bytes QUIC has not taken, and
    // the held ones stay within a frame body.
    private bool TryHold()
    {
        if (_packLimit < 0 || !_stream.HasUnsent)
        {
            return false;
        }

        var bytes = 0;
        foreach (var piece in _ended)
        {
            if (!piece.Whole || piece.Length > _packLimit)
            {
                return false;
            }

            bytes += piece.Length + Slot;
        }

        bool arm;
        lock (_holdGate)
        {
            if (_heldBytes + bytes > _maxBody)
            {
                return false;
            }

            _held.AddRange(_ended);
            _heldBytes += bytes;
            arm = !_holdArmed;
            _holdArmed = true;
        }

        _ended.Clear();
        Volatile.Write(ref _responded, true);
        if (arm)
        {
            _stream.WhenSent(static state => ((QuicResponseWriter)state!).FrameHeld(), this);
        }

        return true;
    }

    // The stream has handed QUIC everything it had: frame what was held meanwhile and give it to QUIC, without waiting
    // for room (the handler's next flush waits, if it must). Runs on the thread pool.
    private void FrameHeld()
    {
        lock (_holdGate)
        {
            _holdArmed = false;
            if (_held.Count == 0 || _exchange.AbortError is not null)
            {
                return;
            }

            try
            {
                var index = 0;
                while (index < _held.Count)
                {
                    index = WriteRun(_held, index);
                }

                ((QuicStreamWriter)_output).Commit();
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The stream failed under us; the handler's next flush says so.
            }

            _held.Clear();
            _heldBytes = 0;
        }
    }

    // Writes the run of held messages from index as one frame (DATA for a message on its own); returns the next index.
    private int WriteRun(List<Piece> pieces, int index)
    {
        var (count, body) = Run(pieces, index);
        if (count > 1)
        {
            QuicFrames.WriteMessages(_codec, _output, count, body);
        }
        else
        {
            var piece = pieces[index];
            QuicFrames.WriteData(_codec, _output, QuicWire.EndMessage, new ReadOnlySequence<byte>(piece.Buffer!, piece.Offset, piece.Length));
        }

        if (pieces[index + count - 1] is { ReturnsBuffer: true, Buffer: { } buffer })
        {
            _pool.Return(buffer);
        }

        return index + count;
    }

    // Puts the held messages back in front of the ended ones, for the handler's own flush to frame: it then is the only
    // one writing to the stream.
    private void TakeHeld()
    {
        lock (_holdGate)
        {
            if (_held.Count == 0)
            {
                return;
            }

            _ended.InsertRange(0, _held);
            _held.Clear();
            _heldBytes = 0;
        }
    }

    // The handler's buffer is being replaced: when held messages still point into it, the last of them returns it.
    private bool HandHeldBuffer(byte[] buffer)
    {
        lock (_holdGate)
        {
            if (_held.Count == 0 || _held[^1].Buffer != buffer)
            {
                return false;
            }

            _held[^1] = _held[^1] with { ReturnsBuffer = true };
            return true;
        }
    }

    // Ended messages the handler did not flush, when the response ends with an error: they are not sent, and their
    // buffers go back unless held messages still point into them.
    private void DropEnded()
    {
        foreach (var piece in _ended)
        {
            if (piece.ReturnsBuffer && piece.Buffer is not null && !HandHeldBuffer(piece.Buffer))
            {
                _pool.Return(piece.Buffer);
            }
        }

        _ended.Clear();
    }

    private void ReleaseHeld()
    {
        lock (_holdGate)
        {
            foreach (var piece in _held)
            {
                if (piece.ReturnsBuffer && piece.Buffer is not null)
                {
                    _pool.Return(piece.Buffer);
                }
            }

            _held.Clear();
            _heldBytes = 0;
        }
    }
}
