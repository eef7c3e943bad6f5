using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Streams;

/// <summary>
/// The server side of the stream protocol: serves the one request each connection carries, through the core's
/// <see cref="IRequestDispatcher"/>. A transport's <see cref="IRequestPlaneServer"/> owns the listener and hands each
/// accepted connection to <see cref="ServeAsync"/>; admission, limits, cancellation both ways, error frames and
/// back-pressure are done here, as the protocol (docs/protocol/stream.md) says.
/// </summary>
public sealed class StreamRequestServer : IAsyncDisposable
{
    private readonly IRequestDispatcher _dispatcher;
    private readonly StreamRequestOptions _options;
    private readonly CancellationTokenSource _stopped = new();
    private readonly Lock _gate = new();
    private int _unread;

    // Completed when the count of requests still being read falls to zero; made only while a drain waits for it.
    private TaskCompletionSource? _allRead;

    /// <summary>Creates the server side for one transport server.</summary>
    /// <param name="dispatcher">The dispatcher the transport server was started with.</param>
    /// <param name="options">The limits; the defaults when null.</param>
    public StreamRequestServer(IRequestDispatcher dispatcher, StreamRequestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        _dispatcher = dispatcher;
        _options = options ?? new StreamRequestOptions();
    }

    /// <summary>
    /// Serves the request on <paramref name="connection"/> and closes it. Never throws: a malformed request is answered
    /// with an error frame that says what was wrong, and a client that leaves cancels its handler.
    /// </summary>
    /// <param name="connection">An accepted connection; this call owns and disposes it.</param>
    /// <returns>A task that ends when the request has ended.</returns>
    public async Task ServeAsync(Stream connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Interlocked.Increment(ref _unread);
        bool unread = true;
        byte[]? payload = null;
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(_stopped.Token);
        using var closing = aborted.Token.UnsafeRegister(static state => ((Stream)state!).Dispose(), connection);
        try
        {
            IncomingRequest? request = null;
            PlexusException? refusal;
            try
            {
                (request, payload, refusal) = await ReadRequestAsync(connection, aborted.Token);
            }
            catch (PlexusException malformed)
            {
                refusal = malformed;
            }
            finally
            {
                Read(ref unread);
            }

            var channel = new StreamResponseChannel(connection, _options);
            if (refusal is not null)
            {
                await channel.CompleteAsync(refusal);
                return;
            }

            _ = WatchAsync(connection, aborted);
            await _dispatcher.DispatchAsync(request!, channel); // never throws: it ends the stream itself
        }
        catch (Exception e) when (StreamWire.IsGone(e))
        {
            // The client left before its request was whole.
        }
        finally
        {
            Read(ref unread);
            if (payload is not null)
            {
                ArrayPool<byte>.Shared.Return(payload);
            }

            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Waits until every connection handed to <see cref="ServeAsync"/> so far has had its request dispatched or
    /// refused. A transport calls it from <see cref="IRequestPlaneServer.StopAcceptingAsync"/> after closing its
    /// listener, so that the core's drain counts those requests.
    /// </summary>
    /// <param name="cancellationToken">The end of the grace period.</param>
    /// <returns>A task that ends when no request is still being read.</returns>
    public async ValueTask WaitForRequestsReadAsync(CancellationToken cancellationToken)
    {
        Task allRead;
        lock (_gate)
        {
            if (Volatile.Read(ref _unread) == 0)
            {
                return;
            }

            _allRead ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            allRead = _allRead.Task;
        }

        await allRead.WaitAsync(cancellationToken);
    }

    /// <summary>Aborts every request in flight: connections close, handlers' tokens fire, clients see Unavailable.</summary>
    /// <returns>A task that ends when the abort has been signalled.</returns>
    public async ValueTask DisposeAsync() => await _stopped.CancelAsync();

    private async Task<(IncomingRequest?, byte[]?, PlexusException?)> ReadRequestAsync(Stream connection, CancellationToken aborted)
    {
        byte[] prefix = new byte[StreamWire.PreambleBytes + StreamWire.FrameHeaderBytes];
        await connection.ReadExactlyAsync(prefix, aborted);
        if (!prefix.AsSpan(0, StreamWire.PreambleBytes).SequenceEqual(StreamWire.Preamble))
        {
            throw PlexusException.Protocol(
                $"The connection began with {Convert.ToHexString(prefix, 0, StreamWire.PreambleBytes)}, not the Plexus stream protocol's 505853 01 ('PXS', version 1); connect with a client of that protocol (docs/protocol/stream.md).");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(StreamWire.PreambleBytes + 1));
        if (prefix[StreamWire.PreambleBytes] != StreamWire.Head || length > StreamWire.MaxHeadBytes)
        {
            throw PlexusException.Protocol(
                $"The first frame was kind {prefix[StreamWire.PreambleBytes]} of {length} bytes; a request begins with a HEAD frame (kind {StreamWire.Head}) of at most {StreamWire.MaxHeadBytes} bytes.");
        }

        byte[] body = new byte[length];
        await connection.ReadExactlyAsync(body, aborted);
        var head = StreamRequestHead.Read(body);
        var refusal = _dispatcher.Admit(head.Endpoint, head.Instance)
            ?? (head.PayloadLength <= MaxPayloadBytes(_options) ? null
                : PlexusException.TooLarge("request payload", head.PayloadLength, MaxPayloadBytes(_options), _options.PayloadLimitSetting));
        if (refusal is not null)
        {
            return (null, null, refusal);
        }

        int size = (int)head.PayloadLength;
        byte[] payload = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            await connection.ReadExactlyAsync(payload.AsMemory(0, size), aborted);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(payload);
            throw;
        }

        var request = new IncomingRequest(head.Endpoint, head.Instance, head.RequestId, new ReadOnlySequence<byte>(payload, 0, size), head.Headers, head.Deadline, aborted);
        return (request, payload, null);
    }

    // One array holds a payload, so the limit is at most the longest array.
    internal static long MaxPayloadBytes(StreamRequestOptions options) => Math.Min(options.MaxPayloadBytes, Array.MaxLength);

    // The client sends nothing after its payload: a read that ends (0 bytes, or a reset) means it cancelled or left.
    private static async Task WatchAsync(Stream connection, CancellationTokenSource aborted)
    {
        try
        {
            await connection.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, aborted.Token);
        }
        catch (Exception e) when (StreamWire.IsGone(e))
        {
            // Closed under it: the same news.
        }

        try
        {
            await aborted.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The request had already ended.
        }
    }

    private void Read(ref bool unread)
    {
        if (unread)
        {
            unread = false;
            if (Interlocked.Decrement(ref _unread) == 0)
            {
                // Under the lock, so that a drain that saw a request still being read is always woken.
                lock (_gate)
                {
                    if (Volatile.Read(ref _unread) == 0)
                    {
                        _allRead?.TrySetResult();
                        _allRead = null;
                    }
                }
            }
        }
    }
}
