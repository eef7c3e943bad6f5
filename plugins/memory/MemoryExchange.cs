using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Plexus.Transport.Memory;

/// <summary>
/// The state one request shares between the server (handler and writer) and the client (response stream): the queue
/// of response messages, its byte budget, the handler's cancellation token and how the request ended.
/// </summary>
/// <remarks>
/// <para>
/// A request ends exactly once, in one of two ways. <see cref="Complete"/> is the orderly end written by the server after
/// the handler returned or threw: the client reads every message already queued, then the end or the error.
/// <see cref="Abort"/> is the disorderly end (client cancel, deadline, server stopped): the handler's token fires, a
/// handler waiting in <see cref="IResponseWriter.FlushAsync"/> wakes with the error, and the client's next read fails
/// at once without waiting for queued messages.
/// </para>
/// <para>
/// Response buffers are rented; each is returned exactly once: by the client when it moves past a message, by the
/// writer for messages it never queued, and by <see cref="Finish"/> for messages still queued when both sides are done.
/// </para>
/// </remarks>
internal sealed class MemoryExchange
{
    // Timers cannot wait longer than this (about 49 days); a later deadline is as good as none.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    private readonly Channel<ResponseMessage> _messages;
    private readonly ByteBudget _budget;
    private readonly ClientBudget _clientBudget;
    private readonly ClientBudget.Share _share = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _gate = new();
    private Timer? _deadlineTimer;
    private bool _ended;
    private PlexusException? _abortError;
    private PlexusException? _completionError;
    private int _sidesDone;

    /// <summary>Creates the shared state of one request.</summary>
    /// <param name="options">The server's options: buffer limits.</param>
    /// <param name="pool">Where response buffers are rented from and returned to.</param>
    /// <param name="deadline">The request's deadline, if any.</param>
    /// <param name="clientBudget">The client's budget, shared by all its requests.</param>
    public MemoryExchange(MemoryTransportOptions options, ArrayPool<byte> pool, DateTimeOffset? deadline, ClientBudget clientBudget)
    {
        // Two bounds on what waits for the client: a number of messages (the channel) and a number of bytes (the
        // budget). Either alone is not enough: many empty messages, or a few huge ones.
        _messages = Channel.CreateBounded<ResponseMessage>(new BoundedChannelOptions(options.MaxBufferedMessages)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _budget = new ByteBudget(options.MaxBufferedBytes);
        _clientBudget = clientBudget;
        Pool = pool;
        Deadline = deadline;
    }

    /// <summary>The pool response buffers come from.</summary>
    public ArrayPool<byte> Pool { get; }

    /// <summary>The request's deadline, if any.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>The handler's <see cref="RequestContext.RequestAborted"/>.</summary>
    public CancellationToken RequestAborted => _aborted.Token;

    /// <summary>The error of a disorderly end, which the client reports before any queued message.</summary>
    public PlexusException? AbortError => Volatile.Read(ref _abortError);

    /// <summary>The error of an orderly end, reported after the queued messages; <see langword="null"/> for success.</summary>
    public PlexusException? CompletionError => Volatile.Read(ref _completionError);

    /// <summary>Whether the request has ended, either way.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>Where the client reads messages from.</summary>
    public ChannelReader<ResponseMessage> Messages => _messages.Reader;

    /// <summary>Starts the deadline clock; called once the server has accepted the request.</summary>
    public void StartDeadline()
    {
        if (Deadline is not { } deadline)
        {
            return;
        }

        // The deadline goes through Abort like every other end, not through CancelAfter on the handler's token
        // source: Abort records why the request ended before the token fires, so a handler that reacts to its token
        // at once (even inline, on the timer's thread) can never make a Timeout look like a HandlerError.
        var remaining = deadline - DateTimeOffset.UtcNow;
        if (remaining <= TimeSpan.Zero)
        {
            Abort(DeadlinePassed());
        }
        else if (remaining < LongestTimer)
        {
            var timer = new Timer(static state => ((MemoryExchange)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            lock (_gate)
            {
                _deadlineTimer = timer;
            }

            timer.Change(remaining, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Queues one message for the client, waiting while the client is behind (back-pressure). Called by the writer.
    /// On failure the message was not queued and the caller still owns its buffer.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">The token the handler passed to <see cref="IResponseWriter.FlushAsync"/>.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ResponseMessage message, CancellationToken cancellationToken)
    {
        // Room in bytes first: this is where a slow client stops a fast handler.
        if (!await _budget.TakeAsync(message.Length, cancellationToken))
        {
            throw ErrorForHandler();
        }

        // Then room in the client's budget, so that many unread requests hold no more than one client's worth.
        var held = ClientCost(message);
        try
        {
            await _clientBudget.TakeAsync(_share, held, cancellationToken, _aborted.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The request ended while the handler waited.
            throw ErrorForHandler();
        }
        catch (OperationCanceledException)
        {
            _budget.Release(message.Length);
            throw;
        }

        try
        {
            if (!_messages.Writer.TryWrite(message))
            {
                await _messages.Writer.WriteAsync(message, cancellationToken);
            }
        }
        catch (ChannelClosedException)
        {
            // Abort completes the channel while the handler may be waiting for a slot.
            _clientBudget.Release(_share, held);
            throw ErrorForHandler();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _budget.Release(message.Length);
            _clientBudget.Release(_share, held);
            throw;
        }
    }

    /// <summary>Gives back a message the client has moved past: its room in the budget and its buffer.</summary>
    /// <param name="message">The message.</param>
    public void Release(ResponseMessage message)
    {
        _budget.Release(message.Length);
        _clientBudget.Release(_share, ClientCost(message));
        message.ReturnTo(Pool);
    }

    /// <summary>Ends the request in order; the client reads what is queued, then the end or <paramref name="error"/>.</summary>
    /// <param name="error">The error, or <see langword="null"/> for success.</param>
    public void Complete(PlexusException? error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _completionError = error;
        }

        _messages.Writer.TryComplete();
    }

    /// <summary>
    /// Ends the request at once with <paramref name="error"/>: fires the handler's token, wakes a handler waiting for
    /// room, and fails the client's next read. Does nothing once the request has ended.
    /// </summary>
    /// <param name="error">What the client sees.</param>
    public void Abort(PlexusException error)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _abortError = error;
        }

        _budget.Close();
        _messages.Writer.TryComplete();
        try
        {
            _aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the handler registered on its token threw. That is the handler's failure to report, not a
            // reason to leave this request (or, for a stopping server, the requests after it) half aborted.
        }
    }

    /// <summary>The server side is done: the handler returned and the writer gave back what it held.</summary>
    public void ServerDone() => SideDone();

    /// <summary>The client side is done: the response stream was disposed.</summary>
    public void ClientDone() => SideDone();

    private void SideDone()
    {
        if (Interlocked.Increment(ref _sidesDone) == 2)
        {
            Finish();
        }
    }

    private void Finish()
    {
        // Nobody reads or writes any more: stop the deadline clock and return the buffers of messages the client never
        // read. The token source is not disposed: it has no timer or wait handle of its own to free, and leaving it
        // undisposed means a late Abort (a server stopping at this very moment) can never touch a disposed source.
        Timer? timer;
        lock (_gate)
        {
            timer = _deadlineTimer;
            _deadlineTimer = null;
        }

        timer?.Dispose();
        while (_messages.Reader.TryRead(out var message))
        {
            _clientBudget.Release(_share, ClientCost(message));
            message.ReturnTo(Pool);
        }
    }

    // What a message holds in memory: its rented array, which may be larger than the message.
    private static long ClientCost(in ResponseMessage message) => message.Buffer?.Length ?? 0;

    private void OnDeadline() => Abort(DeadlinePassed());

    private PlexusException DeadlinePassed() => new(
        PlexusErrorCode.Timeout,
        $"The request's deadline ({Deadline?.ToString("O", CultureInfo.InvariantCulture)}) passed before it completed.");

    // The handler gets its own exception object: the client's is thrown on another thread.
    private PlexusException ErrorForHandler() =>
        AbortError is { } error
            ? new PlexusException(error.Code, error.Message)
            : new PlexusException(PlexusErrorCode.Cancelled, "The request has already ended; nothing more can be written to it.");
}
