using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// The bytes waiting to be written to the server. Any thread appends whole commands under one lock; the connection's
/// write loop takes everything appended so far and writes it with one socket write and one flush, so many commands
/// share a flush. Survives reconnects: what was appended while disconnected goes out on the next connection, within
/// a bound.
/// </summary>
internal sealed class NatsOutbox
{
    private const int MaxControlLine = 1024;

    private readonly Pipe _pipe = new(new PipeOptions(
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: 64 * 1024,
        useSynchronizationContext: false));

    private readonly Lock _gate = new();
    private readonly long _maxPending;
    private readonly long _maxWhileDisconnected;
    private long _pending;
    private bool _connected;
    private bool _closed;
    private TaskCompletionSource? _room;

    /// <summary>Creates an outbox.</summary>
    /// <param name="maxPending">Bytes waiting while connected above which publishers wait.</param>
    /// <param name="maxWhileDisconnected">Bytes kept while disconnected, above which publishes fail.</param>
    public NatsOutbox(long maxPending, long maxWhileDisconnected)
    {
        _maxPending = maxPending;
        _maxWhileDisconnected = maxWhileDisconnected;
    }

    /// <summary>Where the write loop reads from.</summary>
    public PipeReader Reader => _pipe.Reader;

    /// <summary>Bytes appended and not yet written.</summary>
    public long Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending;
            }
        }
    }

    /// <summary>
    /// <see cref="Pending"/> without the lock, for a check on every message received: a stale value only moves the
    /// moment the reader stops by a message.
    /// </summary>
    public long PendingNow => Volatile.Read(ref _pending);

    /// <summary>Marks the outbox as connected (publishers wait for room) or not (publishers fail past the bound).</summary>
    /// <param name="connected">Whether a write loop is running.</param>
    public void SetConnected(bool connected)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _connected = connected;
            if (!connected)
            {
                // Waiting publishers re-check against the disconnected bound, which fails them if it is exceeded.
                wake = _room;
                _room = null;
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>Closes the outbox: every later append fails and waiting publishers wake.</summary>
    public void Close()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            wake = _room;
            _room = null;
            _pipe.Writer.Complete();
        }

        wake?.TrySetResult();
    }

    /// <summary>Waits until there is room for <paramref name="bytes"/> more, or fails when disconnected past the bound.</summary>
    /// <param name="bytes">The size about to be appended.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the bytes may be appended.</returns>
    public ValueTask WaitForRoomAsync(long bytes, CancellationToken cancellationToken)
    {
        Task wait;
        lock (_gate)
        {
            ThrowIfNoRoom(bytes);
            if (!_connected || _pending <= _maxPending)
            {
                return default;
            }

            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _room.Task;
        }

        return WaitSlowAsync(wait, bytes, cancellationToken);
    }

    /// <summary>Called by the write loop after it wrote <paramref name="bytes"/>.</summary>
    /// <param name="bytes">How many bytes were written (or dropped with a dead connection).</param>
    public void Sent(long bytes)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _pending -= bytes;
            if (_room is not null && _pending <= _maxPending)
            {
                wake = _room;
                _room = null;
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>Appends PUB or HPUB with its payload.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="replyTo">The reply subject, or <see langword="null"/>.</param>
    /// <param name="headers">The header block; empty for PUB.</param>
    /// <param name="payload">The payload.</param>
    /// <exception cref="NatsException">Disconnected past the bound, or closed.</exception>
    public void Publish(string subject, string? replyTo, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload)
    {
        var total = headers.Length + payload.Length;
        lock (_gate)
        {
            ThrowIfNoRoom(total + subject.Length + 64);
            var writer = _pipe.Writer;
            var line = writer.GetSpan(MaxControlLine + subject.Length + (replyTo?.Length ?? 0));
            var n = 0;
            if (headers.IsEmpty)
            {
                Put(line, ref n, "PUB "u8);
            }
            else
            {
                Put(line, ref n, "HPUB "u8);
            }

            n += Encoding.UTF8.GetBytes(subject, line[n..]);
            line[n++] = (byte)' ';
            if (!string.IsNullOrEmpty(replyTo))
            {
                n += Encoding.UTF8.GetBytes(replyTo, line[n..]);
                line[n++] = (byte)' ';
            }

            if (!headers.IsEmpty)
            {
                PutNumber(line, ref n, headers.Length);
                line[n++] = (byte)' ';
            }

            PutNumber(line, ref n, total);
            Put(line, ref n, "\r\n"u8);
            writer.Advance(n);
            long written = n;

            if (!headers.IsEmpty)
            {
                writer.Write(headers);
                written += headers.Length;
            }

            foreach (var segment in payload)
            {
                writer.Write(segment.Span);
            }

            writer.Write("\r\n"u8);
            written += payload.Length + 2;
            Commit(written);
        }
    }

    /// <summary>Appends SUB.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="queueGroup">The queue group, or <see langword="null"/>.</param>
    /// <param name="sid">The subscription id.</param>
    public void Subscribe(string subject, string? queueGroup, long sid)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            var writer = _pipe.Writer;
            var n = WriteSubscribe(writer.GetSpan(MaxControlLine + subject.Length + (queueGroup?.Length ?? 0)), subject, queueGroup, sid);
            writer.Advance(n);
            Commit(n);
        }
    }

    /// <summary>Appends UNSUB.</summary>
    /// <param name="sid">The subscription id.</param>
    public void Unsubscribe(long sid)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            var writer = _pipe.Writer;
            var line = writer.GetSpan(64);
            var n = 0;
            Put(line, ref n, "UNSUB "u8);
            PutNumber(line, ref n, sid);
            Put(line, ref n, "\r\n"u8);
            writer.Advance(n);
            Commit(n);
        }
    }

    /// <summary>Appends a control command as is, such as <c>PING\r\n</c>; dropped silently once closed.</summary>
    /// <param name="command">The command with its line end.</param>
    public void Control(ReadOnlySpan<byte> command)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _pipe.Writer.Write(command);
            Commit(command.Length);
        }
    }

    /// <summary>Formats SUB into <paramref name="line"/>; also used to resubscribe on a fresh connection.</summary>
    /// <param name="line">Where to write; at least 1 KiB plus the subject and queue lengths.</param>
    /// <param name="subject">The subject.</param>
    /// <param name="queueGroup">The queue group, or <see langword="null"/>.</param>
    /// <param name="sid">The subscription id.</param>
    /// <returns>The bytes written.</returns>
    public static int WriteSubscribe(Span<byte> line, string subject, string? queueGroup, long sid)
    {
        var n = 0;
        Put(line, ref n, "SUB "u8);
        n += Encoding.UTF8.GetBytes(subject, line[n..]);
        line[n++] = (byte)' ';
        if (!string.IsNullOrEmpty(queueGroup))
        {
            n += Encoding.UTF8.GetBytes(queueGroup, line[n..]);
            line[n++] = (byte)' ';
        }

        PutNumber(line, ref n, sid);
        Put(line, ref n, "\r\n"u8);
        return n;
    }

    private static void Put(Span<byte> line, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(line[n..]);
        n += bytes.Length;
    }

    private static void PutNumber(Span<byte> line, ref int n, long value)
    {
        Utf8Formatter.TryFormat(value, line[n..], out var written);
        n += written;
    }

    private async ValueTask WaitSlowAsync(Task wait, long bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                ThrowIfNoRoom(bytes);
                if (!_connected || _pending <= _maxPending)
                {
                    return;
                }

                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _room.Task;
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new NatsException(NatsErrorKind.Closed, "The NATS connection is closed.");
        }
    }

    private void ThrowIfNoRoom(long bytes)
    {
        ThrowIfClosed();
        if (!_connected && _pending + bytes > _maxWhileDisconnected)
        {
            throw new NatsException(
                NatsErrorKind.BufferFull,
                $"Not connected to NATS and the reconnect buffer is full ({_pending} of {_maxWhileDisconnected} bytes); retry once reconnected or raise the reconnect buffer.");
        }
    }

    private void Commit(long bytes)
    {
        _pending += bytes;

        // No pause threshold: the flush only publishes the bytes to the write loop and completes at once.
        var flush = _pipe.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("The outbox pipe paused; it is configured never to.");
        }

        flush.GetAwaiter().GetResult();
    }
}
