using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Plexus.Transport.Nats.Client;

/// <summary>A link's loops: reading and handling the server's frames, writing the outbox, and the ping that notices a dead link.</summary>
internal sealed partial class NatsConnection
{
    private async Task ReadLoopAsync(NatsLink link)
    {
        var reader = link.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(link.Cancellation.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var owedTooMuch = false;
                try
                {
                    while (link.Parser.TryRead(ref buffer, out var frame))
                    {
                        HandleFrame(link, frame);
                        if (_outbox.PendingNow >= _stopReadingAt)
                        {
                            // The server is not taking what it is sent: read no further, not even what is buffered.
                            owedTooMuch = true;
                            break;
                        }
                    }
                }
                finally
                {
                    // Stopped early, the rest is unexamined, so that the next read returns it at once.
                    reader.AdvanceTo(buffer.Start, owedTooMuch ? buffer.Start : buffer.End);
                }

                if (owedTooMuch)
                {
                    // Until the outbox is down to MaxPendingBytes; a server that never reads is dropped by the ping
                    // keep-alive, which cancels this wait with the link.
                    await _outbox.WaitForRoomAsync(0, link.Cancellation.Token).ConfigureAwait(false);
                    continue;
                }

                if (result.IsCompleted)
                {
                    throw new NatsException(NatsErrorKind.Connection, $"The NATS server at {NatsLink.Display(link.Server)} closed the connection.");
                }
            }
        }
        catch (Exception exception)
        {
            LinkFailed(link, exception);
        }
    }

    private async Task WriteLoopAsync(NatsLink link)
    {
        var reader = _outbox.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(link.Cancellation.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var length = buffer.Length;
                try
                {
                    // Everything appended since the last round: one write per segment, one flush for all of it.
                    foreach (var segment in buffer)
                    {
                        await link.Stream.WriteAsync(segment, link.Cancellation.Token).ConfigureAwait(false);
                    }

                    await link.Stream.FlushAsync(link.Cancellation.Token).ConfigureAwait(false);
                }
                finally
                {
                    // On failure the batch is dropped: it may have reached the old server, and NATS is at-most-once.
                    reader.AdvanceTo(buffer.End);
                    _outbox.Sent(length);
                }

                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            LinkFailed(link, exception);
        }
    }

    private void HandleFrame(NatsLink link, NatsFrame frame)
    {
        switch (frame.Op)
        {
            case NatsOp.Msg or NatsOp.HMsg:
                if (_subscriptions.TryGetValue(frame.Sid, out var subscription))
                {
                    try
                    {
                        subscription.Handler.OnMessage(new NatsMessage(subscription, frame.Subject, frame.ReplyTo, frame.Headers, frame.Payload));
                    }
                    catch (Exception exception) when (exception is not NatsProtocolException)
                    {
                        // A failing handler loses its message, not everybody's connection.
                        _logger.LogError(HandlerFailedEvent, exception, "A NATS message handler for {Subject} failed.", subscription.Subject);
                    }
                }

                break;
            case NatsOp.Ping:
                _outbox.Control("PONG\r\n"u8);
                break;
            case NatsOp.Pong:
                TaskCompletionSource? waiter = null;
                lock (_gate)
                {
                    link.PingsOutstanding = 0;
                    if (link.PongWaiters.Count > 0)
                    {
                        waiter = link.PongWaiters.Dequeue();
                    }
                }

                waiter?.TrySetResult();
                break;
            case NatsOp.Info:
                var info = NatsServerInfo.Parse(frame.Payload);
                link.Info = info;
                link.Parser.MaxPayload = info.MaxPayload;
                lock (_gate)
                {
                    if (ReferenceEquals(_link, link))
                    {
                        _info = info;
                    }
                }

                _pool.AddDiscovered(info.ConnectUrls);
                if (info.LameDuckMode)
                {
                    OnLameDuck(link);
                }

                break;
            case NatsOp.Err:
                var text = System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, frame.Payload);
                if (text.StartsWith("Permissions Violation", StringComparison.OrdinalIgnoreCase))
                {
                    // The server keeps the connection; only that publish or subscription was refused.
                    _logger.LogWarning(ServerErrorEvent, "The NATS server refused an operation: {Error}", text);
                    break;
                }

                throw new NatsException(NatsErrorKind.Server, $"The NATS server at {NatsLink.Display(link.Server)} reported an error: '{text}'.");
        }
    }

    private void OnLameDuck(NatsLink link)
    {
        // The server will close this link soon; reconnects go to another server first when there is one.
        _pool.MarkLameDuck(link.Server);
        _logger.LogWarning(LameDuckEvent, "The NATS server at {Server} entered lame-duck mode; reconnects will prefer another server.", NatsLink.Display(link.Server));
        var handler = LameDuck;
        if (handler is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static h => h(), handler, preferLocal: false);
        }
    }

    private void OnPingTimer()
    {
        NatsLink? stale = null;
        lock (_gate)
        {
            if (_state != NatsConnectionState.Connected || _link is null)
            {
                return;
            }

            if (_link.PingsOutstanding >= _options.MaxPingsOutstanding)
            {
                stale = _link;
            }
            else
            {
                _link.PingsOutstanding++;
                _link.PongWaiters.Enqueue(null);
                _outbox.Control("PING\r\n"u8);
            }
        }

        if (stale is not null)
        {
            LinkFailed(stale, new NatsException(NatsErrorKind.Connection, $"The NATS server at {NatsLink.Display(stale.Server)} did not answer {_options.MaxPingsOutstanding} pings in a row; the connection is considered dead."));
        }
    }
}
