using System.Buffers;
using System.IO.Pipelines;
using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// One request stream on the server. It reads the REQUEST head and asks the dispatcher to admit it (a refusal is
/// ERROR with BEFORE_FIRST_BYTE plus STOP_SENDING REFUSED, at once, without reading the payload), copies the payload
/// into pooled memory as it arrives (QUIC's credit goes back as it is copied), then hands the request to the dispatcher
/// with a <see cref="QuicResponseWriter"/> as its response channel. It ends once: completed by the dispatcher, or
/// aborted (the client reset the stream, the connection was lost, the server closed), in which case
/// <see cref="IncomingRequest.Aborted"/> fires.
/// </summary>
internal sealed class QuicExchange : IThreadPoolWorkItem
{
    // Trust the declared payload length for the first array only up to this; beyond it memory follows what arrives.
    private const int MaxFirstArray = 1024 * 1024;

    private readonly QuicServerSession _session;
    private readonly QuicStream _stream;
    private readonly PipeReader _input;
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private QuicResponseWriter? _writer;
    private PlexusException? _abortError;
    private bool _responseEnded;

    // 1 while the server counts this stream as admitted but not yet handed to the dispatcher (see QuicServer).
    private int _undispatched;

    public QuicExchange(QuicServerSession session, QuicStream stream)
    {
        _session = session;
        _stream = stream;
        _input = stream.Input;
    }

    /// <summary>The QUIC stream id.</summary>
    public long Id => _stream.Id;

    /// <summary>Why the request ended early, if it did.</summary>
    public PlexusException? AbortError => Volatile.Read(ref _abortError);

    /// <summary>Runs the stream; called by the thread pool.</summary>
    public void Execute() => _ = RunAsync();

    /// <summary>The server is closing: a response still running is reset with SHUTDOWN and the handler's token fires.</summary>
    public void Shutdown() => Abort(PlexusException.Unavailable($"{_session.Server.Address} stopped while the request was in flight."), QuicErrorCodes.Shutdown);

    /// <summary>The connection closed: the handler's token fires; nothing can be sent any more.</summary>
    public void ConnectionLost() => Abort(PlexusException.Unavailable($"The connection from {_session.Peer} was lost while the request was in flight."), resetCode: null);

    /// <summary>
    /// The client stopped the response (STOP_SENDING, seen by a write) or reset the stream: the request is cancelled.
    /// </summary>
    /// <returns>The error the handler's writes fail with from now on.</returns>
    public PlexusException ClientGone()
    {
        Abort(new PlexusException(PlexusErrorCode.Cancelled, "The client cancelled the request."), resetCode: null);
        return AbortError!;
    }

    /// <summary>The response's last frame was handed to QUIC; nothing may abort it any more.</summary>
    public void ResponseEnded()
    {
        lock (_gate)
        {
            _responseEnded = true;
        }
    }

    private void Abort(PlexusException error, ulong? resetCode)
    {
        lock (_gate)
        {
            if (_abortError is not null || _responseEnded)
            {
                return;
            }

            Volatile.Write(ref _abortError, error);
        }

        if (resetCode is { } code)
        {
            _stream.Abort(code);
        }

        _aborted.Cancel();
    }

    private async Task RunAsync()
    {
        PooledPayload payload = default;
        var builder = new PayloadBuilder(_session.Server.Pool);
        try
        {
            if (!await _session.Ready.ConfigureAwait(false))
            {
                _stream.Abort(QuicErrorCodes.Refused);
                return;
            }

            var request = await ReadPayloadAsync(builder).ConfigureAwait(false);
            if (request is not { } head)
            {
                return;
            }

            payload = builder.Take();
            _writer = new QuicResponseWriter(this, _stream, _session.Codec, _session.ClientSettings.MaxFrameBodyBytes, _session.Server.Options.MaxPayloadBytes, _session.Server.Pool, _session.Version >= QuicWire.PackedVersion);

            // A client that resets the stream (or stops reading it) while the handler runs leaves the stream: that is
            // the cancellation, whether or not the handler ever writes again.
            _ = _stream.Completed.ContinueWith(
                static (_, state) => ((QuicExchange)state!).OnStreamGone(),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            var incoming = new IncomingRequest(head.Endpoint, head.Instance, head.RequestId, payload.ToSequence(), head.Headers, head.Deadline, _aborted.Token);
            ValueTask dispatch;
            try
            {
                // The dispatcher counts the request in flight before this returns: from here its drain waits for it.
                dispatch = _session.Dispatcher.DispatchAsync(incoming, _writer);
            }
            finally
            {
                HandedOver();
            }

            await dispatch.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The contract says DispatchAsync does not throw; one that does costs this request, not the connection.
            QuicLog.StreamFailed(_session.Logger, Id, _session.Peer, exception.Message);
            if (_writer is null)
            {
                _stream.Abort(QuicErrorCodes.Refused);
            }
            else
            {
                await _writer.CompleteAsync(PlexusException.Unavailable($"The server could not run the request: {exception.Message}")).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_writer is { IsCompleted: false } writer)
            {
                // A dispatcher that returned without ending the stream: the client must not be left waiting.
                await writer.CompleteAsync(AbortError ?? PlexusException.Unavailable("The request has ended.")).ConfigureAwait(false);
            }

            // The payload stays valid until the dispatch has completed.
            payload.Return(_session.Server.Pool);
            builder.Discard();
            HandedOver();
            _session.ExchangeFinished(this);
        }
    }

    // Reads the REQUEST head, admits it, then the payload to the client's FIN. Null when the stream ended without a
    // request to dispatch (refused, reset, malformed); the reason has been sent or logged.
    private async Task<DecodedRequest?> ReadPayloadAsync(PayloadBuilder payload)
    {
        var codec = _session.Codec;
        var limits = _session.LocalLimits;
        DecodedRequest? head = null;
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (codec.TryRead(ref buffer, limits, out var frame))
                {
                    if (head is not { } request)
                    {
                        head = request = ReadHead(frame);
                        var refusal = Check(request, frame.Body) ?? _session.Dispatcher.Admit(request.Endpoint, request.Instance) ?? _session.TryAdmit();
                        if (refusal is not null)
                        {
                            await RefuseAsync(refusal).ConfigureAwait(false);
                            return null;
                        }

                        _undispatched = 1;
                    }
                    else if (ReadFrameType(frame.Header) != (QuicWire.Data, 0))
                    {
                        throw PlexusException.Protocol($"A request stream carried a frame of type {ReadFrameType(frame.Header).Type} with flags 0x{ReadFrameType(frame.Header).Flags:x2} after its REQUEST; only DATA without flags may follow.");
                    }

                    if (payload.Length + frame.Body.Length > request.PayloadLength)
                    {
                        await RefuseAsync(PlexusException.Protocol($"The REQUEST declared a payload of {request.PayloadLength} bytes but the stream carries more.")).ConfigureAwait(false);
                        return null;
                    }

                    payload.Append(frame.Body, (int)Math.Min(request.PayloadLength, MaxFirstArray));
                }

                // What was copied out is consumed: QUIC may let the client send more.
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (!result.IsCompleted)
                {
                    continue;
                }

                if (!buffer.IsEmpty || head is null)
                {
                    throw PlexusException.Protocol(head is null ? "The stream ended before a complete REQUEST frame." : "The stream ended inside a frame.");
                }

                if (payload.Length != head.Value.PayloadLength)
                {
                    await RefuseAsync(PlexusException.Protocol($"The REQUEST declared a payload of {head.Value.PayloadLength} bytes but the stream ended after {payload.Length}.")).ConfigureAwait(false);
                    return null;
                }

                await _input.CompleteAsync().ConfigureAwait(false);
                return head;
            }
        }
        catch (PlexusException malformed)
        {
            // A stream error: this request fails, the connection and its other streams carry on.
            QuicLog.ProtocolViolation(_session.Logger, Id, _session.Peer, malformed.Message);
            _stream.Abort(QuicErrorCodes.Protocol);
            return null;
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client reset the stream (it gave up) or the connection went: nothing to answer.
            QuicLog.StreamFailed(_session.Logger, Id, _session.Peer, exception.Message);
            return null;
        }
    }

    private DecodedRequest ReadHead(in Frame frame)
    {
        var (type, flags) = ReadFrameType(frame.Header);
        if (type != QuicWire.Request || flags != 0)
        {
            throw PlexusException.Protocol($"A request stream must start with a REQUEST frame (type {QuicWire.Request}, no flags); it started with type {type}, flags 0x{flags:x2}.");
        }

        return _session.Decode(frame.Header);
    }

    private static (byte Type, byte Flags) ReadFrameType(in ReadOnlySequence<byte> header)
    {
        var reader = new SequenceReader<byte>(header);
        if (!reader.TryRead(out var type) || !reader.TryRead(out var flags))
        {
            throw PlexusException.Protocol($"A frame header is {header.Length} bytes; every header has at least {QuicWire.CommonHeaderLength}.");
        }

        return (type, flags);
    }

    // The transport's own limits, checked before a byte of payload is kept.
    private PlexusException? Check(in DecodedRequest request, in ReadOnlySequence<byte> body)
    {
        var max = _session.Server.Options.MaxPayloadBytes;
        if (request.PayloadLength > max)
        {
            return PlexusException.TooLarge("request payload", request.PayloadLength, max, QuicTransportOptions.Key(nameof(QuicTransportOptions.MaxPayloadBytes)));
        }

        return body.Length > request.PayloadLength
            ? PlexusException.Protocol($"The REQUEST declares a payload of {request.PayloadLength} bytes but its first frame carries {body.Length}.")
            : null;
    }

    // ERROR with the refusal, FIN, and STOP_SENDING REFUSED: the rest of the payload is never read.
    private async Task RefuseAsync(PlexusException refusal)
    {
        QuicLog.StreamFailed(_session.Logger, Id, _session.Peer, refusal.Message);
        _stream.AbortRead(QuicErrorCodes.Refused);
        try
        {
            QuicFrames.WriteError(_session.Codec, _stream.Output, refusal);
            await _stream.Output.FlushAsync().ConfigureAwait(false);
            await _stream.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client has gone; nobody is waiting for the answer.
        }
    }

    private void OnStreamGone()
    {
        bool ended;
        lock (_gate)
        {
            ended = _responseEnded;
        }

        if (!ended)
        {
            ClientGone();
        }
    }

    private void HandedOver()
    {
        if (Interlocked.Exchange(ref _undispatched, 0) == 1)
        {
            _session.Server.HandOver.HandedOver();
        }
    }
}
