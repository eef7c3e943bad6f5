using System.Threading.Tasks.Sources;

namespace Plexus.Bench;

/// <summary>
/// One stream's place in a <see cref="ServingPacer"/>: the handler awaits <see cref="NextAsync"/> before each paced
/// token. The awaitable is this object, reset for every wait, so waiting allocates nothing per token; the handler
/// resumes on the thread pool, never on the pacer's tick.
/// </summary>
internal sealed class PacedStream : IValueTaskSource, IDisposable
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Ended = 2;

    private readonly ServingPacer _pacer;
    private readonly long _phase;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private long _paced;
    private int _state;
    private int _disposed;

    internal PacedStream(ServingPacer pacer, long phase, CancellationToken cancellationToken)
    {
        _pacer = pacer;
        _phase = phase;
        _cancellationToken = cancellationToken;

        // Once per stream, not per wait.
        _registration = cancellationToken.UnsafeRegister(static stream => ((PacedStream)stream!).Fail(canceled: true), this);
    }

    /// <summary>When the token being waited for is due, in ticks of the pacer's clock after its start.</summary>
    internal long Due { get; private set; }

    /// <summary>Waits until the next paced token is due: the first at the stream's phase after the start, then one pace apart.</summary>
    /// <exception cref="OperationCanceledException">The request was cancelled or the pacer stopped.</exception>
    public ValueTask NextAsync()
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _state) == Ended)
        {
            throw new OperationCanceledException("The serving pacer stopped.");
        }

        Due = _phase + (_paced++ * _pacer.PaceTicks);
        _core.Reset();
        Volatile.Write(ref _state, Waiting);
        if (_pacer.Enqueue(this, Due))
        {
            return new ValueTask(this, _core.Version);
        }

        // Due already (the stream is behind): on at once, unless a cancellation came in between.
        return Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting ? default : new ValueTask(this, _core.Version);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _registration.Dispose();
        Fail(canceled: false);
        Volatile.Write(ref _state, Ended);
        _pacer.Closed();
    }

    internal void Release()
    {
        // A stream cancelled while it waited is still in the wheel; it is dropped here.
        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
        {
            _core.SetResult(true);
        }
    }

    internal void Abort() => Fail(canceled: false);

    private void Fail(bool canceled)
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Waiting) == Waiting)
        {
            _core.SetException(canceled ? new OperationCanceledException(_cancellationToken) : new OperationCanceledException("The serving pacer stopped."));
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
