using System.Buffers;
using NATS.Client.Core;

namespace Plexus.Transport.Nats;

/// <summary>
/// The reply to a plain NATS caller (a request with no Plexus headers, only a reply subject): the first message the
/// handler sends is the one NATS reply, without headers; the handler is then stopped, since the caller takes nothing
/// more. An error is a reply with the NATS services API's <c>Nats-Service-Error</c> and <c>Nats-Service-Error-Code</c>
/// headers; a handler that ends without a message answers with an empty reply.
/// </summary>
internal sealed partial class NatsExchange
{
    private bool _plainReplied;

    private async ValueTask ReplyPlainAsync(ReadOnlyMemory<byte> message)
    {
        ValueTask sent;
        lock (_gate)
        {
            if (_ended)
            {
                throw ErrorForHandler();
            }

            // The reply carries no headers: the whole of max_payload is the message's.
            if (message.Length > _link.MaxPayload)
            {
                var tooLarge = new PlexusException(
                    PlexusErrorCode.PayloadTooLarge,
                    $"The response message is {message.Length} bytes, more than one NATS message carries here (max_payload {_link.MaxPayload}); a Plexus client receives it in chunks.");
                _ended = true;
                _abortError = tooLarge;
                FinishPlainLocked(tooLarge);
                throw ErrorForHandler();
            }

            _ended = true;
            _responded = true;
            _plainReplied = true;
            _abortError = new PlexusException(PlexusErrorCode.Cancelled, "The plain NATS caller has its one reply; nothing more is sent to it.");
            sent = _link.PublishAsync(ReplyTo, null, null, new ReadOnlySequence<byte>(message));
        }

        // The caller has its answer: a handler that goes on streaming is stopped.
        try
        {
            _aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the handler registered threw; the reply is out all the same.
        }

        try
        {
            await sent.ConfigureAwait(false);
        }
        catch (NatsException exception)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The reply could not be sent: {exception.Message}", exception);
        }
    }

    // Under the lock, once: the empty reply of a handler that sent nothing, or the error reply.
    private void FinishPlainLocked(PlexusException? error)
    {
        if (_plainReplied)
        {
            return;
        }

        _plainReplied = true;
        if (error is null)
        {
            NatsLink.Observe(_link.PublishAsync(ReplyTo, null, null, ReadOnlySequence<byte>.Empty));
            return;
        }

        Failure = error;
        var headers = new NatsHeaders
        {
            [NatsServiceErrors.ErrorHeader] = NatsServiceErrors.OneLine(error.Message),
            [NatsServiceErrors.CodeHeader] = NatsServiceErrors.Code(error.Code),
            [NatsWire.Names.ErrorCode] = NatsWire.Number((int)error.Code),
        };
        NatsLink.Observe(_link.PublishAsync(ReplyTo, null, headers, ReadOnlySequence<byte>.Empty));
    }
}
