namespace Plexus.Bench;

/// <summary>
/// The serving scenario's token clock on the server side, shared by every stream of a measurement, as one decode loop
/// paces every sequence of a batch: one timer for all streams, never one per stream. Stream i of n has its tokens due
/// i/n of a pace apart from stream 0's, so that due tokens spread evenly over time as independent streams' would.
/// A handler waits for its next token with <see cref="PacedStream.NextAsync"/>; the timer ticks every
/// <see cref="DefaultTick"/> and releases every stream whose token is due. Waiting streams sit in a hashed timing
/// wheel, one list per tick of a revolution one pace long (a stream never waits longer), so a tick costs the streams
/// due in it, not all of them. The lists are sized for their share of the streams up front and reused every
/// revolution: pacing allocates nothing once the pacer exists. Nothing is released before <see cref="Start"/>: until
/// then the streams are open and idle.
/// </summary>
internal sealed class ServingPacer : IDisposable
{
    /// <summary>How often the timer releases due tokens: the finest pace it keeps.</summary>
    public static TimeSpan DefaultTick { get; } = TimeSpan.FromMilliseconds(1);

    private readonly TimeProvider _time;
    private readonly long _pace;
    private readonly int _streams;
    private readonly TimeSpan _tickInterval;
    private readonly long _tick;
    private readonly List<PacedStream>[] _wheel;

    // Filled under the lock by a tick and released outside it, so that no handler runs while the lock is held.
    private readonly List<PacedStream> _releasing = [];
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _start;
    private bool _started;
    private bool _disposed;
    private long _nextSlot;
    private int _ticking;
    private int _open;
    private int _opened;

    /// <param name="plan">The pace and the number of streams their phases spread over.</param>
    /// <param name="time">The clock; the system's by default.</param>
    /// <param name="tick">How often due tokens are released; <see cref="DefaultTick"/> by default.</param>
    public ServingPacer(ServingPlan plan, TimeProvider? time = null, TimeSpan? tick = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _time = time ?? TimeProvider.System;
        _pace = plan.PaceTicks(_time.TimestampFrequency);
        _streams = plan.Streams;
        _tickInterval = tick ?? DefaultTick;
        _tick = Math.Max(1, (long)Math.Round(_tickInterval.TotalSeconds * _time.TimestampFrequency));

        // One slot more than a pace, and one for the partly drained current slot.
        var slots = (int)Math.Min(1 << 20, (_pace / _tick) + 2);
        var perSlot = (int)Math.Min(_streams, (_streams / (slots - 1)) + 16);
        _wheel = new List<PacedStream>[slots];
        for (var i = 0; i < slots; i++)
        {
            _wheel[i] = new List<PacedStream>(perSlot);
        }
    }

    /// <summary>The clock every timestamp of the measurement is read from.</summary>
    public TimeProvider Time => _time;

    /// <summary>The time between two tokens of a stream, in ticks of <see cref="Time"/>.</summary>
    public long PaceTicks => _pace;

    /// <summary>Streams whose handler is running now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Streams whose handler has started, in all.</summary>
    public int Opened => Volatile.Read(ref _opened);

    /// <summary>Whether <see cref="Start"/> was called.</summary>
    public bool Started
    {
        get
        {
            lock (_gate)
            {
                return _started;
            }
        }
    }

    /// <summary>A handler's pacing for one stream; dispose it when the handler ends.</summary>
    /// <param name="stream">The stream's number, 0 to the plan's streams - 1: it sets the stream's phase.</param>
    /// <param name="cancellationToken">The request's; cancelling it fails a wait in progress.</param>
    public PacedStream OpenStream(int stream, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stream);
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _opened);
        return new PacedStream(this, stream % _streams * _pace / _streams, cancellationToken);
    }

    /// <summary>Starts the clock: the first paced token of stream i is due i/n of a pace from now.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                return;
            }

            _start = _time.GetTimestamp();
            _started = true;
            _nextSlot = 0;
        }

        _timer = _time.CreateTimer(static pacer => ((ServingPacer)pacer!).Tick(), this, _tickInterval, _tickInterval);
    }

    /// <summary>Stops the clock and fails every wait in progress, so that no handler waits for ever.</summary>
    public void Dispose()
    {
        _timer?.Dispose();
        var waiting = new List<PacedStream>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var slot in _wheel)
            {
                waiting.AddRange(slot);
                slot.Clear();
            }
        }

        foreach (var stream in waiting)
        {
            stream.Abort();
        }
    }

    internal void Closed() => Interlocked.Decrement(ref _open);

    /// <summary>Puts a stream in the wheel until <paramref name="due"/> (ticks after the start).</summary>
    /// <returns>False when the token is due already: the stream goes on at once.</returns>
    internal bool Enqueue(PacedStream stream, long due)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started && due <= _time.GetTimestamp() - _start)
            {
                return false;
            }

            _wheel[Slot(due / _tick)].Add(stream);
            return true;
        }
    }

    private int Slot(long tick) => (int)(tick % _wheel.Length);

    private void Tick()
    {
        // A tick that runs late may meet the next one; the next catches up with whatever is due by then.
        if (Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                var now = _time.GetTimestamp() - _start;
                var current = now / _tick;

                // Every slot from the last one drained to the current one, but a whole revolution at most. The
                // current slot is drained again next time: it may hold tokens due later in it.
                for (var slot = Math.Max(_nextSlot, current - _wheel.Length + 1); slot <= current; slot++)
                {
                    var streams = _wheel[Slot(slot)];
                    var kept = 0;
                    for (var i = 0; i < streams.Count; i++)
                    {
                        var stream = streams[i];
                        if (stream.Due <= now)
                        {
                            _releasing.Add(stream);
                        }
                        else
                        {
                            // Due in a later revolution.
                            streams[kept++] = stream;
                        }
                    }

                    streams.RemoveRange(kept, streams.Count - kept);
                }

                _nextSlot = current;
            }

            foreach (var stream in _releasing)
            {
                stream.Release();
            }

            _releasing.Clear();
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }
}
