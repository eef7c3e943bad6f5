using System.Buffers;

namespace Plexus.Transport.Streams;

/// <summary>
/// The client side of the stream protocol: an <see cref="IRequestPlaneClient"/> that opens one connection per request
/// with the transport's connect function and carries the request and its responses over it. A connect that fails is
/// <see cref="PlexusErrorCode.Unavailable"/> with <see cref="PlexusException.BeforeFirstByte"/>, so the caller tries
/// another instance.
/// </summary>
public sealed class StreamRequestClient : IRequestPlaneClient
{
    private const int SmallPayloadBytes = 16 * 1024;

    private readonly Func<Uri, CancellationToken, ValueTask<Stream>> _connect;
    private readonly StreamRequestOptions _options;

    /// <summary>Creates a client.</summary>
    /// <param name="connect">Opens a connection to a server's address (for example a Unix socket's path).</param>
    /// <param name="options">The limits and clock; the defaults when null.</param>
    public StreamRequestClient(Func<Uri, CancellationToken, ValueTask<Stream>> connect, StreamRequestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _options = options ?? new StreamRequestOptions();
    }

    /// <inheritdoc />
    public TransportHealth Health => TransportHealth.Healthy;

    /// <inheritdoc />
    public async ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Deadline <= _options.TimeProvider.GetUtcNow())
        {
            throw new PlexusException(PlexusErrorCode.Timeout, "The deadline passed before the request was sent.");
        }

        long limit = StreamRequestServer.MaxPayloadBytes(_options);
        if (request.Payload.Length > limit)
        {
            throw PlexusException.TooLarge("request payload", request.Payload.Length, limit, _options.PayloadLimitSetting);
        }

        byte[] head = WriteHead(request, out int headBytes, out bool payloadInHead);
        Stream connection;
        try
        {
            connection = await _connect(address, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ArrayPool<byte>.Shared.Return(head);
            throw new PlexusException(PlexusErrorCode.Unavailable, $"Could not connect to {address}: {e.Message}", e) { BeforeFirstByte = true };
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(head);
            throw;
        }

        var responses = new StreamResponseStream(connection, address, request.Deadline, _options, cancellationToken);
        try
        {
            await connection.WriteAsync(head.AsMemory(0, headBytes), cancellationToken);
            if (!payloadInHead)
            {
                foreach (ReadOnlyMemory<byte> segment in request.Payload)
                {
                    await connection.WriteAsync(segment, cancellationToken);
                }
            }
        }
        catch (IOException)
        {
            // The server refused and closed before the payload was whole: the first MoveNextAsync reads why.
        }
        catch
        {
            await responses.DisposeAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }

        return responses; // the payload is on the wire, so the caller's buffer is free
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // The preamble, the HEAD frame and, when small, the payload: one write for a small request.
    private static byte[] WriteHead(OutgoingRequest request, out int length, out bool withPayload)
    {
        int headBody = StreamRequestHead.Measure(request);
        if (headBody > StreamWire.MaxHeadBytes)
        {
            throw new PlexusException(PlexusErrorCode.ProtocolError, $"The request's endpoint, id and headers take {headBody} bytes, over the stream protocol's {StreamWire.MaxHeadBytes}; send fewer or shorter headers.");
        }

        int headLength = StreamWire.PreambleBytes + StreamWire.FrameHeaderBytes + headBody;
        withPayload = request.Payload.Length <= SmallPayloadBytes;
        length = headLength + (withPayload ? (int)request.Payload.Length : 0);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        StreamWire.Preamble.CopyTo(buffer);
        StreamWire.WriteFrameHeader(buffer.AsSpan(StreamWire.PreambleBytes), StreamWire.Head, headBody);
        StreamRequestHead.Write(buffer.AsSpan(StreamWire.PreambleBytes + StreamWire.FrameHeaderBytes), request);
        if (withPayload)
        {
            request.Payload.CopyTo(buffer.AsSpan(headLength));
        }

        return buffer;
    }
}
