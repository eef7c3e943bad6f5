using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// Request/reply over one shared inbox subscription (<c>_INBOX.&lt;id&gt;.*</c>): each request gets a reply subject
/// under it, and the reply is matched by its last token. A 503 status (no responders) fails the request at once.
/// </summary>
internal sealed class NatsRequester : INatsMessageHandler
{
    private readonly NatsConnection _connection;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<NatsReply>> _pending = new();
    private long _next;

    /// <summary>Creates the requester and its inbox subscription.</summary>
    /// <param name="connection">The connection.</param>
    public NatsRequester(NatsConnection connection)
    {
        _connection = connection;
        _prefix = NatsConnection.NewInbox();
        connection.Subscribe(_prefix + ".*", queueGroup: null, this);
    }

    /// <summary>Sends a request and waits for its reply.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="headers">The header block, or empty.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply.</returns>
    public async Task<NatsReply> RequestAsync(string subject, ReadOnlyMemory<byte> headers, ReadOnlySequence<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _next);
        var waiter = new TaskCompletionSource<NatsReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = waiter;
        try
        {
            await _connection.PublishAsync(subject, string.Create(CultureInfo.InvariantCulture, $"{_prefix}.{id}"), headers, payload, cancellationToken).ConfigureAwait(false);
            return await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new NatsException(NatsErrorKind.Timeout, $"No reply on '{subject}' within {timeout.TotalMilliseconds:0} ms.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Fails every waiting request, when the connection is lost or closed.</summary>
    /// <param name="error">The error.</param>
    public void FailAll(Exception error)
    {
        foreach (var (id, waiter) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                waiter.TrySetException(error);
            }
        }
    }

    /// <inheritdoc />
    public void OnMessage(in NatsMessage message)
    {
        if (!TryReadId(message.Subject, out var id) || !_pending.TryRemove(id, out var waiter))
        {
            return;
        }

        var status = 0;
        if (message.HasHeaders)
        {
            var block = message.Headers.ToArray();
            status = new NatsHeaderReader(block).Status;
            if (status == 503)
            {
                waiter.TrySetException(new NatsException(NatsErrorKind.NoResponders, "No one subscribes to the subject (503 no responders)."));
                return;
            }

            waiter.TrySetResult(new NatsReply(status, block, message.Payload.ToArray()));
            return;
        }

        waiter.TrySetResult(new NatsReply(status, [], message.Payload.ToArray()));
    }

    /// <summary>Reads the number after the subject's last dot.</summary>
    /// <param name="subject">The subject.</param>
    /// <param name="id">The number.</param>
    /// <returns><see langword="true"/> when the last token is a number.</returns>
    public static bool TryReadId(ReadOnlySequence<byte> subject, out long id)
    {
        id = 0;
        Span<byte> tail = stackalloc byte[20];
        var length = (int)Math.Min(subject.Length, tail.Length);
        subject.Slice(subject.Length - length).CopyTo(tail);
        var span = tail[..length];
        var dot = span.LastIndexOf((byte)'.');
        return dot >= 0 && Utf8Parser.TryParse(span[(dot + 1)..], out id, out var consumed) && consumed == span.Length - dot - 1;
    }
}
