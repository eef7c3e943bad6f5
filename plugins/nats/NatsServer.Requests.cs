using System.Buffers;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>What arrives at the server, on the connection's read loop: request heads and control frames.</summary>
internal sealed partial class NatsServer
{
    // A Plexus client's reply subjects are _INBOX.<22 characters>.<n>; a subject past this is not from one.
    private const int MaxReplyTo = 512;

    // What a request costs the budget beyond its payload: its exchange, its handler's state. It bounds the number of
    // small requests held at once as the payload bounds the bytes of large ones.
    private const long RequestOverheadBytes = 1024;

    // The longest request subject: a long prefix, three 64-character segments and two 16-digit ids.
    private const int MaxSubject = 1024;

    /// <summary>A control frame arrived (chunk, credit, cancel, ping); on the read loop.</summary>
    /// <param name="subject">The control subject.</param>
    /// <param name="replyTo">The requester's reply subject, which names the request.</param>
    /// <param name="headers">The frame's headers.</param>
    /// <param name="payload">The frame's payload.</param>
    /// <returns>A task that completes once a reply the frame asks for (a pong) is in the outbox.</returns>
    public ValueTask ReceiveAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        // 503s for frames sent to requesters that are gone come back here without a reply-to: nothing to do.
        if (string.IsNullOrEmpty(replyTo) || replyTo.Length > MaxReplyTo)
        {
            return default;
        }

        FrameHeader header;
        try
        {
            header = FrameHeader.Read(headers);
        }
        catch (FormatException)
        {
            return default;
        }

        if (!_exchanges.TryGetValue(replyTo, out var exchange))
        {
            // Finished or unknown: a silent requester gives up on its own.
            return default;
        }

        switch (header.Kind)
        {
            case FrameKind.Part:
                if (exchange.AddPart(header, payload) is { } error)
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
                return Quietly(exchange.PongAsync());
        }

        return default;
    }

    /// <summary>
    /// A request for an endpoint whose instance the server knows already (a plain caller on the endpoint's queue
    /// subject); on the read loop.
    /// </summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance id it is served as here.</param>
    /// <param name="replyTo">The caller's reply subject.</param>
    /// <param name="headers">The message's headers.</param>
    /// <param name="payload">The message's payload.</param>
    /// <returns>A task that completes once a refusal is in the outbox.</returns>
    internal ValueTask OnQueuedAsync(EndpointAddress endpoint, InstanceId instance, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload) =>
        string.IsNullOrEmpty(replyTo) || replyTo.Length > MaxReplyTo
            ? default
            : TakeAsync(replyTo, endpoint, instance, kept: true, headers, payload);

    // Waited for by the read loop while the outbox is full; a failed publish is lost with the connection.
    private static async ValueTask Quietly(ValueTask publish)
    {
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or ObjectDisposedException)
        {
            // Gone: the requester's keep-alive ends its wait.
        }
    }

    // A request head arrived on the request subscription.
    private ValueTask OnHeadAsync(string subject, string? replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        if (string.IsNullOrEmpty(replyTo) || replyTo.Length > MaxReplyTo)
        {
            // Nobody to answer.
            return default;
        }

        if (!TryReadTarget(subject, out var endpoint, out var instance, out var kept))
        {
            return Refuse(replyTo, RequestHead.LooksPlain(headers), PlexusErrorCode.ProtocolError, "The request subject does not name an endpoint and an instance id (<prefix>.<namespace>.<component>.<endpoint>.<instance>.<server-id>).");
        }

        return IsHeads(headers)
            ? OnHeadsAsync(replyTo, endpoint, instance, kept, headers, payload)
            : TakeAsync(replyTo, endpoint, instance, kept, headers, payload);
    }

    // A heads frame says so in its Plexus-Frame header; a request head has none. Screened by a search of the block,
    // then read: a head whose own headers happen to contain both words is still a head.
    private static bool IsHeads(in ReadOnlySequence<byte> headers)
    {
        if (headers.IsEmpty)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[512];
        var block = NatsWire.Contiguous(headers, scratch, out var rented);
        try
        {
            return block.IndexOf(NatsWire.Kind.Heads) >= 0 && block.IndexOf(NatsWire.Frame) >= 0 && FrameHeader.Read(headers).Kind == FrameKind.Heads;
        }
        catch (FormatException)
        {
            // Not a frame this server reads: taken, or refused, as a head.
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // A heads frame: several requests to one subject from one client, each taken as if its head had come alone, with
    // reply subject <the frame's reply subject up to its last token>.<n>. A malformed frame is checked whole before
    // any head is taken; it is answered with one error frame to the frame's own reply subject, which fails all of its
    // requests on the client.
    private ValueTask OnHeadsAsync(string replyTo, EndpointAddress endpoint, InstanceId instance, bool kept, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        string? problem;
        long count = -1;
        try
        {
            var header = FrameHeader.Read(headers);
            count = header.Count;
            problem = header.Kind != FrameKind.Heads ? "it is not a heads frame" : BatchedHeads.Check(payload, count);
        }
        catch (FormatException exception)
        {
            problem = exception.Message;
        }

        var dot = replyTo.LastIndexOf('.');
        if (problem is null && dot <= 0)
        {
            problem = "its reply subject has no inbox to answer its requests under";
        }

        if (problem is not null)
        {
            return Refuse(replyTo, plain: false, PlexusErrorCode.ProtocolError, $"The batch of request heads to {endpoint} is malformed: {problem}.", beforeFirstByte: false);
        }

        // The frame's requests run one after another on one work item, which then publishes their answers as one
        // frame: one wake-up for the batch instead of one per request and two for the answers.
        var batch = new DispatchBatch(this, (int)count);
        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            var (number, block, body) = BatchedHeads.Read(payload, offset);
            offset += BatchedHeads.EntryBytes;
            var each = string.Create(CultureInfo.InvariantCulture, $"{replyTo.AsSpan(0, dot + 1)}{number}");
            var taken = TakeAsync(each, endpoint, instance, kept, payload.Slice(offset, block), payload.Slice(offset + block, body), batch);
            offset += block + (long)body;
            if (!taken.IsCompletedSuccessfully)
            {
                // A refusal waits for room in the outbox: the rest follow once it has it.
                batch.Queue();
                return TakeRestAsync(taken, i + 1, offset);
            }
        }

        batch.Queue();
        return default;

        async ValueTask TakeRestAsync(ValueTask waiting, long next, long at)
        {
            await waiting.ConfigureAwait(false);
            for (var i = next; i < count; i++)
            {
                var (number, block, body) = BatchedHeads.Read(payload, at);
                at += BatchedHeads.EntryBytes;
                var each = string.Create(CultureInfo.InvariantCulture, $"{replyTo.AsSpan(0, dot + 1)}{number}");
                await TakeAsync(each, endpoint, instance, kept, payload.Slice(at, block), payload.Slice(at + block, body)).ConfigureAwait(false);
                at += block + (long)body;
            }
        }
    }

    // The dispatcher takes the request or refuses it before any payload is buffered, and the budget of request bytes
    // must have room for it; a taken one is dispatched once its payload is complete (at once when it fitted the head).
    private ValueTask TakeAsync(string replyTo, EndpointAddress endpoint, InstanceId instance, bool kept, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload, DispatchBatch? batch = null)
    {
        // Whether the caller is plain decides only how a refusal looks: before the head is read it is found from the
        // headers on the refusal path alone, so a request that is taken has its headers read once.
        if (Stopped())
        {
            return Refuse(replyTo, RequestHead.LooksPlain(headers), PlexusErrorCode.Unavailable, StoppedMessage(endpoint));
        }

        if (Volatile.Read(ref _dispatcher)!.Admit(endpoint, instance) is { } refusal)
        {
            return Refuse(replyTo, RequestHead.LooksPlain(headers), refusal.Code, refusal.Message, refusal.BeforeFirstByte);
        }

        if (!kept)
        {
            _names.Keep(endpoint);
        }

        RequestHead head;
        try
        {
            head = RequestHead.Read(headers, payload.Length);
        }
        catch (FormatException exception)
        {
            return Refuse(replyTo, RequestHead.LooksPlain(headers), PlexusErrorCode.ProtocolError, $"The request to {endpoint} has malformed headers: {exception.Message}");
        }

        if (head.Length > _options.MaxPayloadBytes)
        {
            return Refuse(replyTo, head.Plain, PlexusErrorCode.PayloadTooLarge, $"The request payload is {head.Length} bytes, over the limit of {_options.MaxPayloadBytes} bytes; send less or raise {NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxPayloadBytes))} on the server.");
        }

        if (payload.Length > head.Length)
        {
            return Refuse(replyTo, head.Plain, PlexusErrorCode.ProtocolError, $"The request carries {payload.Length} bytes but announces {head.Length}.");
        }

        if (!TryReserve(head.Length + RequestOverheadBytes, out var held))
        {
            return Refuse(
                replyTo,
                head.Plain,
                PlexusErrorCode.Overloaded,
                $"{Address} holds {held} bytes of requests and takes at most {_options.MaxRequestBytesInFlight} ({NatsTransportOptions.Key(nameof(NatsTransportOptions.MaxRequestBytesInFlight))}); the {head.Length}-byte request to {endpoint} goes elsewhere or later.");
        }

        var buffer = head.Length == 0 ? [] : _pool.Rent((int)head.Length);
        var exchange = new NatsExchange(_link, replyTo, endpoint, instance, head, buffer, _answers);
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
                _answers.Started();
                added = true;
                _undispatched++;
            }
        }

        if (!added)
        {
            // Stopped meanwhile, or a head sent twice (the first one stands).
            ReturnPayload(exchange);
            return stopped ? Refuse(replyTo, head.Plain, PlexusErrorCode.Unavailable, StoppedMessage(endpoint)) : default;
        }

        exchange.AddFirst(payload);
        if (exchange.Complete)
        {
            if (batch is null)
            {
                Dispatch(exchange);
            }
            else if (exchange.TryClaim())
            {
                batch.Add(exchange);
            }
        }
        else
        {
            exchange.Touch();
        }

        return default;
    }

    // Reserves a request's bytes against the budget; a request that would go over is refused from its head.
    private bool TryReserve(long length, out long held)
    {
        held = Interlocked.Read(ref _requestBytes);
        while (true)
        {
            if (held + length > _options.MaxRequestBytesInFlight)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _requestBytes, held + length, held);
            if (seen == held)
            {
                return true;
            }

            held = seen;
        }
    }

    private bool TryReadTarget(string subject, out EndpointAddress endpoint, out InstanceId instance, out bool kept)
    {
        endpoint = default;
        instance = default;
        kept = false;
        if (subject.Length > MaxSubject)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(subject.Length)];
        var length = Encoding.UTF8.GetBytes(subject, bytes);
        return NatsAddress.TrySplitRequestSubject(bytes[..length], _prefix.Length, out var tokens, out instance)
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

    // Refusals come before any work: unless the dispatcher said otherwise, the caller may try another instance. A
    // Plexus client gets an error frame; a plain NATS caller the NATS services API's error reply.
    private ValueTask Refuse(string replyTo, bool plain, PlexusErrorCode code, string message, bool beforeFirstByte = true)
    {
        NatsHeaders headers;
        var body = ReadOnlySequence<byte>.Empty;
        if (plain)
        {
            headers = new NatsHeaders
            {
                [NatsServiceErrors.ErrorHeader] = NatsServiceErrors.OneLine(message),
                [NatsServiceErrors.CodeHeader] = NatsServiceErrors.Code(code),
                [NatsWire.Names.ErrorCode] = NatsWire.Number((long)code),
            };
        }
        else
        {
            headers = NatsWire.Headers(new NatsHeaders(), NatsWire.Names.Error, NatsWire.Names.Seq, 0, NatsWire.Names.ErrorCode, (long)code, beforeFirstByte);
            body = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(message));
        }

        return Quietly(_link.PublishAsync(replyTo, null, headers, body));
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
            ReturnPayload(exchange);
            Finished(exchange);
            _services.Record(exchange.Endpoint, System.Diagnostics.Stopwatch.GetElapsedTime(exchange.Started), exchange.Failure);
        }
    }
}
