using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace Plexus.Transport.Streams;

// The responses of one request, read from the connection through a pipe: a message is a slice of the pipe's buffer,
// valid until the next MoveNextAsync, so reading allocates nothing per message. The deadline, the send's token and
// each MoveNextAsync's token cancel the pending read; the connection then closes, which tells the server to stop.
internal sealed class StreamResponseStream : IResponseStream
{
    private readonly Stream _connection;
    private readonly PipeReader _reader;
    private readonly Uri _address;
    private readonly long _maxMessageBytes;
    private readonly CancellationToken _sent;
    private readonly CancellationTokenSource? _deadline;
    private readonly CancellationTokenRegistration _onDeadline, _onSent;
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private SequencePosition? _consumed;
    private bool _done, _disposed;

    public StreamResponseStream(Stream connection, Uri address, DateTimeOffset? deadline, StreamRequestOptions options, CancellationToken sent)
    {
        _connection = connection;
        _reader = PipeReader.Create(connection, new StreamPipeReaderOptions(leaveOpen: true));
        _address = address;
        _maxMessageBytes = StreamRequestServer.MaxPayloadBytes(options);
        _sent = sent;
        if (deadline is { } due)
        {
            var remaining = due - options.TimeProvider.GetUtcNow();
            if (remaining < LongestTimer)
            {
                _deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, options.TimeProvider);
                _onDeadline = _deadline.Token.UnsafeRegister(static state => ((StreamResponseStream)state!).Abort(), this);
            }
        }

        _onSent = sent.UnsafeRegister(static state => ((StreamResponseStream)state!).Abort(), this);
    }

    public ReadOnlySequence<byte> Current { get; private set; }

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        if (_consumed is { } consumed)
        {
            _reader.AdvanceTo(consumed);
            _consumed = null;
        }

        Current = default;
        if (_done)
        {
            return false;
        }

        using var onCall = cancellationToken.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), _reader);
        try
        {
            while (true)
            {
                ReadResult result = await _reader.ReadAsync();
                if (result.IsCanceled)
                {
                    throw await EndAsync(Cancelled(cancellationToken));
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                if (TryReadFrame(ref buffer, out byte kind, out ReadOnlySequence<byte> body))
                {
                    return await OnFrameAsync(kind, body, buffer.Start);
                }

                if (result.IsCompleted)
                {
                    throw await EndAsync(PlexusException.Unavailable($"The server at {_address} closed the connection before the request ended."));
                }

                _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (PlexusException)
        {
            await DisposeAsync();
            throw;
        }
        catch (Exception e) when (StreamWire.IsGone(e) && e is not OperationCanceledException)
        {
            throw await EndAsync(Cancelled(cancellationToken) ?? PlexusException.Unavailable($"The server at {_address} left during the request: {e.Message}", e));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _done = true;
        await _onSent.DisposeAsync();
        await _onDeadline.DisposeAsync();
        _deadline?.Dispose();
        await _reader.CompleteAsync();
        await _connection.DisposeAsync(); // before the END this is the cancel: the server stops the handler
    }

    private async ValueTask<bool> OnFrameAsync(byte kind, ReadOnlySequence<byte> body, SequencePosition next)
    {
        switch (kind)
        {
            case StreamWire.Message:
                Current = body;
                _consumed = next;
                return true;
            case StreamWire.End:
                _reader.AdvanceTo(next);
                await EndAsync(null);
                return false;
            case StreamWire.Error when body.Length >= 2:
                throw await EndAsync(ReadError(body));
            case StreamWire.Error:
                throw await EndAsync(PlexusException.Protocol($"The server at {_address} sent an ERROR frame of {body.Length} bytes, shorter than its code and flags."));
            default:
                throw await EndAsync(PlexusException.Protocol($"The server at {_address} sent a frame of kind {kind} and {body.Length} bytes, which the stream protocol version 1 does not have."));
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte kind, out ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(buffer);
        body = default;
        kind = 0;
        if (!reader.TryRead(out kind) || !reader.TryReadBigEndian(out int length))
        {
            return false;
        }

        if ((uint)length > _maxMessageBytes)
        {
            throw PlexusException.Protocol($"The server at {_address} announced a frame of {(uint)length} bytes, over this client's limit of {_maxMessageBytes}; raise the limit or fix the server.");
        }

        if (reader.Remaining < length)
        {
            return false;
        }

        body = reader.UnreadSequence.Slice(0, length);
        buffer = buffer.Slice(body.End);
        return true;
    }

    private static PlexusException ReadError(ReadOnlySequence<byte> body)
    {
        Span<byte> fixedPart = stackalloc byte[2];
        body.Slice(0, 2).CopyTo(fixedPart);
        string message = Encoding.UTF8.GetString(body.Slice(2));
        return new PlexusException((PlexusErrorCode)fixedPart[0], message) { BeforeFirstByte = (fixedPart[1] & 1) != 0 };
    }

    private Exception? Cancelled(CancellationToken call)
    {
        if (_deadline?.IsCancellationRequested == true)
        {
            return new PlexusException(PlexusErrorCode.Timeout, "The deadline passed.");
        }

        return call.IsCancellationRequested ? new OperationCanceledException(call)
            : _sent.IsCancellationRequested ? new OperationCanceledException(_sent)
            : null;
    }

    // The stream has ended (normally, by an error or a cancel): the connection closes now, not at dispose.
    private async ValueTask<Exception> EndAsync(Exception? error)
    {
        _consumed = null;
        await DisposeAsync();
        return error ?? PlexusException.Unavailable($"The request to {_address} was cancelled.");
    }

    // The deadline or the send's token: stop a pending read, and close the connection even when nobody is reading,
    // so that the server stops the handler now.
    private void Abort()
    {
        _reader.CancelPendingRead();
        _connection.Dispose();
    }
}
