using System.Buffers;

namespace Plexus.Transport.Nats;

/// <summary>The frames of one request's response stream, as they arrive on the connection's read loop.</summary>
internal sealed partial class NatsResponseStream
{
    private long _expectedSeq;
    private byte[]? _assembly;
    private int _assemblyLength;
    private int _assemblyOffset;

    /// <summary>Handles one frame from the server, on the connection's read loop.</summary>
    /// <param name="headers">The frame's headers.</param>
    /// <param name="payload">The frame's payload, valid only during the call.</param>
    public void OnFrame(in ReadOnlySequence<byte> headers, in ReadOnlySequence<byte> payload)
    {
        FrameHeader header;
        try
        {
            header = FrameHeader.Read(headers);
        }
        catch (FormatException exception)
        {
            Fail(PlexusException.Protocol($"The server sent a malformed frame for a request to {Endpoint}: {exception.Message}"), cancelServer: true);
            return;
        }

        _ = OnFrame(header, payload);
    }

    /// <summary>Handles one frame whose headers are read (or one answer of a <c>lasts</c> frame), on the read loop.</summary>
    /// <param name="header">The frame's headers.</param>
    /// <param name="payload">The frame's payload, valid only during the call.</param>
    /// <param name="deferWake">Whether a reader due a wake is woken later by <see cref="WakeDeferred"/> (for answers that
    /// end the stream, delivered together): then returns true when it is owed one.</param>
    /// <returns>Whether <see cref="WakeDeferred"/> is owed a call.</returns>
    public bool OnFrame(FrameHeader header, in ReadOnlySequence<byte> payload, bool deferWake = false)
    {
        if (header.Batch && Target is { ReadsBatchedHeads: false } target)
        {
            target.ReadsBatchedHeads = true;
        }

        PlexusException? failure = null;
        long grant = -1;
        var endedNow = false;
        var cancel = false;
        var owed = false;
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            _lastReceived = Environment.TickCount64;
            if (header.Status == 503)
            {
                // No subscriber for the subject the request (or a control message) went to: the instance is gone.
                // Before anything came back and before any control went out, it is the request itself: nobody took it.
                failure = new PlexusException(
                    PlexusErrorCode.Unavailable,
                    _receivedAny || _sentControl
                        ? $"The server serving {Endpoint} went away (NATS reported no responders on its control subject)."
                        : $"No server serves {Endpoint} as the instance asked for (NATS reported no responders).")
                { BeforeFirstByte = !_receivedAny && !_sentControl };
            }
            else if (header.Status != 0)
            {
                failure = PlexusException.Protocol($"NATS answered a request to {Endpoint} with status {header.Status}.");
            }
            else
            {
                _deferWake = deferWake;
                failure = Apply(header, payload, ref grant, ref cancel);
                _deferWake = false;
                endedNow = _ended;
                owed = _wakeOwed;
            }
        }

        if (failure is not null)
        {
            Fail(failure, cancelServer: header.Status == 0);
            return owed;
        }

        if (cancel)
        {
            SendControl(NatsWire.Names.Cancel, NatsWire.Names.ErrorCode, (long)PlexusErrorCode.Cancelled);
        }

        if (grant >= 0)
        {
            SendControl(NatsWire.Names.CreditKind, NatsWire.Names.Credit, grant);
        }

        if (endedNow)
        {
            // The server is done: nothing more arrives for this stream, and it needs no keep-alive.
            _client.Ended(this);
        }

        return owed;
    }

    // Under the lock. Returns an error that ends the request at once, or null; sets grant to a credit to send, and
    // cancel when the stream ended in order with an error the server must hear of.
    private PlexusException? Apply(FrameHeader header, ReadOnlySequence<byte> payload, ref long grant, ref bool cancel)
    {
        switch (header.Kind)
        {
            case FrameKind.Pong:
                return null;
            case FrameKind.Data or FrameKind.Last or FrameKind.Part or FrameKind.End or FrameKind.Error or FrameKind.Msgs or FrameKind.MsgsLast:
                if (header.Seq != _expectedSeq)
                {
                    // Orderly: the messages before the gap are whole and still delivered; then the gap is reported.
                    EndInOrder(PlexusException.Protocol(
                        $"Response frame {_expectedSeq} of a request to {Endpoint} never arrived (frame {header.Seq} came instead); the stream is incomplete."));
                    cancel = true;
                    return null;
                }

                _expectedSeq++;
                _receivedAny = true;
                break;
            default:
                return PlexusException.Protocol($"The server sent a frame of unknown kind for a request to {Endpoint}.");
        }

        switch (header.Kind)
        {
            case FrameKind.Data or FrameKind.Last:
                if (_assembly is not null)
                {
                    return PlexusException.Protocol($"The server started a new message for a request to {Endpoint} before finishing a chunked one.");
                }

                if (payload.Length > _maxMessage)
                {
                    return PlexusException.TooLarge("response message", payload.Length, _maxMessage, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
                }

                var buffer = payload.Length == 0 ? null : _pool.Rent((int)payload.Length);
                if (buffer is not null)
                {
                    payload.CopyTo(buffer);
                }

                _queue.Enqueue(new ReceivedMessage(buffer, (int)payload.Length, Credited: false));
                if (header.Kind == FrameKind.Last)
                {
                    _ended = true;
                    TakeTimer();
                }

                Wake();
                return null;
            case FrameKind.Msgs or FrameKind.MsgsLast:
                return ApplyPacked(header, payload, ref cancel);
            case FrameKind.Part:
                if (_assembly is null)
                {
                    if (header.Length < 0)
                    {
                        return PlexusException.Protocol($"The server sent the first chunk of a message for a request to {Endpoint} without its total length.");
                    }

                    // The limit is checked on the announced length, before the buffer is rented.
                    if (header.Length > _maxMessage)
                    {
                        return PlexusException.TooLarge("response message", header.Length, _maxMessage, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
                    }

                    _assembly = _pool.Rent((int)Math.Max(1, header.Length));
                    _assemblyLength = (int)header.Length;
                    _assemblyOffset = 0;
                }

                if (_assemblyOffset + payload.Length > _assemblyLength)
                {
                    return PlexusException.Protocol($"The chunks of a message for a request to {Endpoint} add up to more than its announced length ({_assemblyLength} bytes).");
                }

                payload.CopyTo(_assembly.AsSpan(_assemblyOffset));
                _assemblyOffset += (int)payload.Length;

                // A chunk is consumed once it is in the message buffer: credit it now, or a message larger than the
                // window could never complete.
                _consumed += payload.Length + NatsWire.FrameCost;
                grant = TakeGrant();
                if (_assemblyOffset == _assemblyLength)
                {
                    _queue.Enqueue(new ReceivedMessage(_assembly, _assemblyLength, Credited: true));
                    _assembly = null;
                    Wake();
                }

                return null;
            case FrameKind.End:
                if (_assembly is not null)
                {
                    return PlexusException.Protocol($"The server ended a request to {Endpoint} in the middle of a chunked message.");
                }

                _ended = true;
                TakeTimer();
                Wake();
                return null;
            default:
                _ended = true;
                var code = Enum.IsDefined((PlexusErrorCode)header.ErrorCode) ? (PlexusErrorCode)header.ErrorCode : PlexusErrorCode.ProtocolError;
                _completionError = new PlexusException(code, System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, payload)) { BeforeFirstByte = header.Refused };
                ReturnAssembly();
                TakeTimer();
                Wake();
                return null;
        }
    }

    // Under the lock: a `msgs` frame is checked whole, then copied once; its messages are handed out from that copy.
    private PlexusException? ApplyPacked(FrameHeader header, ReadOnlySequence<byte> payload, ref bool cancel)
    {
        long largest = 0;
        var problem = _assembly is not null
            ? "it arrived while a chunked message was incomplete"
            : PackedMessages.Check(payload, header.Count, out largest);
        if (problem is not null)
        {
            // Orderly: the messages of earlier frames are whole and still delivered; none of this frame's are.
            EndInOrder(PlexusException.Protocol($"The server sent a malformed msgs frame (frame {header.Seq}) for a request to {Endpoint}: {problem}."));
            cancel = true;
            return null;
        }

        if (largest > _maxMessage)
        {
            return PlexusException.TooLarge("response message", largest, _maxMessage, NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes)));
        }

        var buffer = _pool.Rent((int)payload.Length);
        payload.CopyTo(buffer);
        _queue.Enqueue(new ReceivedMessage(buffer, (int)payload.Length, Credited: false, (int)header.Count));
        if (header.Kind == FrameKind.MsgsLast)
        {
            _ended = true;
            TakeTimer();
        }

        Wake();
        return null;
    }

    // Under the lock: ends the stream after the messages already queued, with an error the reader gets after them.
    private void EndInOrder(PlexusException error)
    {
        _ended = true;
        _completionError = error;
        ReturnAssembly();
        TakeTimer();
        Wake();
    }

    private long TakeGrant()
    {
        if (_consumed - _granted < _window / 4)
        {
            return -1;
        }

        _granted = _consumed;
        return _granted;
    }

    private void ReturnAssembly()
    {
        if (_assembly is not null)
        {
            _pool.Return(_assembly);
            _assembly = null;
        }
    }
}
