using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Plexus.Transport.Streams;

// One response stream on the server. Messages are written straight into one pooled buffer behind a reserved frame
// header, so a message is copied once; FlushAsync writes every ended message in one write and waits for the stream,
// which is the flow control: a client that does not read fills the socket's buffers and the handler waits.
internal sealed class StreamResponseChannel(Stream connection, StreamRequestOptions options) : IResponseChannel
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _ended;          // bytes of whole frames, ready to write
    private int _written;        // those plus the open message and its reserved header
    private bool _open;

    public bool HasResponded { get; private set; }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!_open || count > _buffer.Length - _written)
        {
            throw new InvalidOperationException($"Advance({count}) is past the memory GetMemory or GetSpan gave.");
        }

        _written += count;
    }

    public void EndMessage()
    {
        Reserve(0);
        int length = _written - _ended - StreamWire.FrameHeaderBytes;
        if (length > options.MaxPayloadBytes)
        {
            _written = _ended;
            _open = false;
            throw PlexusException.TooLarge("response message", length, options.MaxPayloadBytes, options.PayloadLimitSetting);
        }

        StreamWire.WriteFrameHeader(_buffer.AsSpan(_ended), StreamWire.Message, length);
        _ended = _written;
        _open = false;
        HasResponded = true;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_ended == 0)
        {
            return;
        }

        try
        {
            await connection.WriteAsync(_buffer.AsMemory(0, _ended), cancellationToken);
        }
        catch (Exception e) when (StreamWire.IsGone(e) && !cancellationToken.IsCancellationRequested)
        {
            throw new PlexusException(PlexusErrorCode.Cancelled, "The client left: its connection closed.", e);
        }

        // An open message moves to the front; it goes out with a later flush.
        _buffer.AsSpan(_ended, _written - _ended).CopyTo(_buffer);
        _written -= _ended;
        _ended = 0;
    }

    public async ValueTask CompleteAsync(PlexusException? error)
    {
        _written = _ended; // a message never ended is not sent
        _open = false;
        if (error is null)
        {
            Append(StreamWire.End, []);
        }
        else
        {
            byte[] text = Encoding.UTF8.GetBytes(error.Message);
            int length = Math.Min(text.Length, StreamWire.MaxErrorMessageBytes);
            Span<byte> body = stackalloc byte[2];
            body[0] = (byte)error.Code;
            body[1] = error.BeforeFirstByte ? (byte)1 : (byte)0;
            Append(StreamWire.Error, body, text.AsSpan(0, length));
        }

        try
        {
            await connection.WriteAsync(_buffer.AsMemory(0, _written));
        }
        catch (Exception e) when (StreamWire.IsGone(e))
        {
            // The client left: nobody to tell.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _written = _ended = 0;
        }
    }

    private void Append(byte kind, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default)
    {
        int length = first.Length + second.Length;
        Grow(StreamWire.FrameHeaderBytes + length);
        StreamWire.WriteFrameHeader(_buffer.AsSpan(_written), kind, length);
        first.CopyTo(_buffer.AsSpan(_written + StreamWire.FrameHeaderBytes));
        second.CopyTo(_buffer.AsSpan(_written + StreamWire.FrameHeaderBytes + first.Length));
        _written += StreamWire.FrameHeaderBytes + length;
        _ended = _written;
    }

    // Opens a message (its frame header reserved) if none is open, and makes room for sizeHint more bytes.
    private void Reserve(int sizeHint)
    {
        if (!_open)
        {
            Grow(StreamWire.FrameHeaderBytes + sizeHint);
            _written += StreamWire.FrameHeaderBytes;
            _open = true;
        }

        Grow(sizeHint);
    }

    private void Grow(int more)
    {
        if (_buffer.Length - _written >= more)
        {
            return;
        }

        if ((long)_written + more > Array.MaxLength)
        {
            throw PlexusException.TooLarge("response data not yet flushed", (long)_written + more, Array.MaxLength, options.PayloadLimitSetting);
        }

        long wanted = Math.Max((long)_buffer.Length * 2, (long)_written + more);
        byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Array.MaxLength));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
