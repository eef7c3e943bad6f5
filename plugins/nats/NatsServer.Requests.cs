using System.Buffers;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats;

/// <summary>What arrives at the server, on the connection's read loop: request heads and control frames.</summary>
internal sealed partial class NatsServer
{
    // A Plexus client's reply subjects are _INBOX.<22 characters>.<n>; a subject past this is not from one.
    private const int MaxReplyTo = 512;

    // The longest request subject: a long prefix, three 64-character segments and two 16-digit ids.
    private const int MaxSubject = 1024;

    /// <summary>A control frame arrived (chunk, credit, cancel, ping); on the read loop.</summary>
    /// <param name="message">The frame; its reply-to names the request.</param>
    public void OnMessage(in NatsMessage message)
    {
        // 503s for frames sent to requesters that are gone come back here without a reply-to: nothing to do.
        if (message.ReplyTo.IsEmpty || message.ReplyTo.Length > MaxReplyTo)
        {
            return;
        }

        FrameHeader header;
        try
        {
            header = FrameHeader.Read(message.Headers);
        }
        catch (NatsProtocolException)
        {
            return;
        }

        Span<char> key = stackalloc char[MaxReplyTo];
        Span<byte> bytes = stackalloc byte[MaxReplyTo];
        message.ReplyTo.CopyTo(bytes);
        var length = Encoding.UTF8.GetChars(bytes[..(int)message.ReplyTo.Length], key);
        if (!_exchangesBySpan.TryGetValue(key[..length], out var exchange))
        {
            // Finished or unknown: a silent requester gives up on its own.
            return;
        }

        switch (header.Kind)
        {
            case FrameKind.Part:
                if (exchange.AddPart(header, message.Payload) is { } error)
                {
                    exchange.Abort(error, notifyClient: true);
                    DropIfNotDispatched(exchange);
                }
                else if (exchange.Complete)
                {
                    Dispatch(exchange);
                }

                break;
            case FrameKind.Credit:
                exchange.Grant(header.Credit);
                break;
            case FrameKind.Cancel:
                exchange.Abort(
                    header.ErrorCode == (int)PlexusErrorCode.Timeout
                        ? new PlexusException(PlexusErrorCode.Timeout, "The requester's deadline passed.")
                        : new PlexusException(PlexusErrorCode.Cancelled, "The requester cancelled the request."),
                    notifyClient: false);
                DropIfNotDispatched(exchange);
                break;
            case FrameKind.Ping:
                exchange.Pong();
                break;
        }
    }

    // A request head arrived on the request subscription: the dispatcher takes it or refuses it before any payload is
    // buffered; a taken one is dispatched once its payload is complete (at once when it fitted the head).
    private void OnHead(in NatsMessage message)
    {
        if (message.ReplyTo.IsEmpty || message.ReplyTo.Length > MaxReplyTo)
        {
            // Not from a Plexus client: nobody to answer.
            return;
        }

        var replyTo = Encoding.UTF8.GetString(message.ReplyTo);
        if (!TryReadTarget(message.Subject, out var endpoint, out var instance, out var kept))
        {
            Refuse(replyTo, PlexusErrorCode.ProtocolError, "The request subject does not name an endpoint and an instance id (<prefix>.<namespace>.<component>.<endpoint>.<instance>.<server-id>).");
            return;
        }

        if (Stopped())
        {
            Refuse(replyTo, PlexusErrorCode.Unavailable, StoppedMessage(endpoint));
            return;
        }

        if (Volatile.Read(ref _dispatcher)!.Admit(endpoint, instance) is { } refusal)
        {
            Refuse(replyTo, refusal.Code, refusal.Message, refusal.BeforeFirstByte);
            return;
        }

        if (!kept)
        {
            _names.Keep(endpoint);
        }

        RequestHead head;
        try
        {
            head = RequestHead.Read(message.Headers);
        }
        catch (Exception exception) when (exception is NatsProtocolException or FormatException)
        {
            Refuse(replyTo, PlexusErrorCode.ProtocolError, $"The request to {endpoint} has malformed headers: {exception.Message}");
            return;
        }

        if (head.Length > _options.MaxPayloadBytes)
        {
            Refuse(replyTo, PlexusErrorCode.PayloadTooLarge, $"The request payload is {head.Length} bytes, over the limit of {_options.MaxPayloadBytes} bytes; send less or raise {NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes))} on the server.");
            return;
        }

        if (message.Payload.Length > head.Length)
        {
            Refuse(replyTo, PlexusErrorCode.ProtocolError, $"The request carries {message.Payload.Length} bytes but announces {head.Length}.");
            return;
        }

        var payload = head.Length == 0 ? [] : _pool.Rent((int)head.Length);
        var exchange = new NatsExchange(_connection, replyTo, endpoint, instance, head, payload);
        bool stopped = false, added = false;
        lock (_gate)
        {
            // Ordered against StopAcceptingAsync: a request counted here is one the stop waits to see dispatched.
            if (_state is ServerState.StoppedAccepting or ServerState.Closed)
            {
                stopped = true;
            }
            else if (_exchanges.TryAdd(replyTo, exchange))
            {
                added = true;
                _undispatched++;
            }
        }

        if (!added)
        {
            // Stopped meanwhile, or a head sent twice (the first one stands).
            ReturnPayload(payload);
            if (stopped)
            {
                Refuse(replyTo, PlexusErrorCode.Unavailable, StoppedMessage(endpoint));
            }

            return;
        }

        exchange.AddFirst(message.Payload);
        if (exchange.Complete)
        {
            Dispatch(exchange);
        }
        else
        {
            exchange.Touch();
        }
    }

    private bool TryReadTarget(in ReadOnlySequence<byte> subject, out EndpointAddress endpoint, out InstanceId instance, out bool kept)
    {
        endpoint = default;
        instance = default;
        kept = false;
        if (subject.Length > MaxSubject)
        {
            return false;
        }

        Span<byte> scratch = subject.IsSingleSegment ? default : stackalloc byte[MaxSubject];
        scoped ReadOnlySpan<byte> bytes;
        if (subject.IsSingleSegment)
        {
            bytes = subject.FirstSpan;
        }
        else
        {
            subject.CopyTo(scratch);
            bytes = scratch[..(int)subject.Length];
        }

        return NatsAddress.TrySplitRequestSubject(bytes, _prefix.Length, out var tokens, out instance)
            && _names.TryRead(tokens, out endpoint, out kept);
    }

    private bool Stopped()
    {
        lock (_gate)
        {
            return _state is ServerState.StoppedAccepting or ServerState.Closed;
        }
    }

    private string StoppedMessage(EndpointAddress endpoint) =>
        $"{Address} has stopped accepting requests; {endpoint} is served elsewhere or not at all.";

    // Refusals come before any work: unless the dispatcher said otherwise, the caller may try another instance.
    private void Refuse(string replyTo, PlexusErrorCode code, string message, bool beforeFirstByte = true)
    {
        Span<byte> header = stackalloc byte[192];
        var n = NatsWire.Small(header, NatsWire.Kind.Error, NatsWire.Seq, 0, NatsWire.ErrorCode, (long)code, beforeFirstByte);
        try
        {
            _connection.Publish(replyTo, null, header[..n], new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(message)));
        }
        catch (NatsException)
        {
            // Gone: the requester's keep-alive ends its wait.
        }
    }

    private void Dispatch(NatsExchange exchange)
    {
        if (!exchange.TryClaim())
        {
            return;
        }

        // Off the read loop: a handler that blocks before its first await must not stop the connection. Queued to
        // this worker's own queue, so that it usually runs right after the read loop yields, without waking a thread.
        ThreadPool.UnsafeQueueUserWorkItem(
            static run => _ = run.Server.RunAsync(run.Exchange),
            (Server: this, Exchange: exchange),
            preferLocal: true);
    }

    private async Task RunAsync(NatsExchange exchange)
    {
        var channel = new NatsResponseWriter(exchange, _pool, _options.MaxPayloadBytes);
        try
        {
            ValueTask dispatch;
            try
            {
                // The dispatcher counts the request as in flight before it first yields; only then is it handed over.
                dispatch = Volatile.Read(ref _dispatcher)!.DispatchAsync(exchange.ToRequest(), channel);
            }
            finally
            {
                ReleaseUndispatched();
            }

            if (!dispatch.IsCompleted)
            {
                // Past the handler's first await: a message held back for the end frame must not wait for the handler.
                exchange.EndDeferral();
            }

            await dispatch.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The dispatcher does not throw; should it, the requester still gets an end rather than silence.
            exchange.Finish(new PlexusException(PlexusErrorCode.HandlerError, exception.Message));
        }
        finally
        {
            channel.Dispose();
            ReturnPayload(exchange.Payload);
            Finished(exchange);
        }
    }
}
