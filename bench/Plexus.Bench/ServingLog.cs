namespace Plexus.Bench;

/// <summary>
/// What the client side of one serving measurement saw, in arrays allocated before it starts so that recording a
/// token allocates nothing: when each stream's request was sent, when each of its tokens arrived, how many arrived,
/// and how each stream ended. Each stream's entries are written by whoever reads that stream, one token at a time.
/// </summary>
internal sealed class ServingLog
{
    private readonly TimeProvider _time;
    private readonly int _tokens;
    private readonly long[] _sent;
    private readonly long[] _arrivals;
    private readonly int[] _received;
    private readonly bool[] _complete;
    private int _firstTokens;
    private int _completed;
    private int _failed;
    private int _failedBeforeFirstToken;
    private string? _firstError;

    public ServingLog(int streams, int tokens, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _tokens = tokens;
        _sent = new long[streams];
        _arrivals = new long[checked(streams * tokens)];
        _received = new int[streams];
        _complete = new bool[streams];
    }

    public int Streams => _sent.Length;

    public int Tokens => _tokens;

    /// <summary>Streams whose first token has arrived.</summary>
    public int FirstTokens => Volatile.Read(ref _firstTokens);

    /// <summary>Streams that got every token and then a clean end.</summary>
    public int Completed => Volatile.Read(ref _completed);

    /// <summary>Streams that failed or ended short.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Streams still waiting for their first token: neither has it arrived nor have they failed.</summary>
    public int AwaitingFirstToken => Streams - FirstTokens - Volatile.Read(ref _failedBeforeFirstToken);

    /// <summary>The first failure, as "stream n: what happened"; null when none failed.</summary>
    public string? FirstError => Volatile.Read(ref _firstError);

    /// <summary>When each stream's request was sent, in ticks of the clock.</summary>
    public ReadOnlySpan<long> SentTimes => _sent;

    /// <summary>When each token arrived: stream i's token k at i × <see cref="Tokens"/> + k.</summary>
    public ReadOnlySpan<long> Arrivals => _arrivals;

    /// <summary>Whether each stream was served completely.</summary>
    public ReadOnlySpan<bool> Complete => _complete;

    /// <summary>Tokens that arrived, over all streams.</summary>
    public long TokensReceived
    {
        get
        {
            long sum = 0;
            foreach (var received in _received)
            {
                sum += received;
            }

            return sum;
        }
    }

    /// <summary>The sequence number the next token of <paramref name="stream"/> must have.</summary>
    public int Expected(int stream) => _received[stream];

    /// <summary>The stream's request is being sent now.</summary>
    public void Sent(int stream) => _sent[stream] = _time.GetTimestamp();

    /// <summary>The stream's next token (number <see cref="Expected"/>) arrived now.</summary>
    /// <returns>The token's sequence number, for the caller to check the token against.</returns>
    /// <exception cref="InvalidDataException">The stream already has all its tokens.</exception>
    public int Arrived(int stream)
    {
        var now = _time.GetTimestamp();
        var sequence = _received[stream];
        if (sequence >= _tokens)
        {
            throw new InvalidDataException($"Stream {stream} got more than {_tokens} tokens.");
        }

        _arrivals[(stream * _tokens) + sequence] = now;
        _received[stream] = sequence + 1;
        if (sequence == 0)
        {
            Interlocked.Increment(ref _firstTokens);
        }

        return sequence;
    }

    /// <summary>The stream ended cleanly: complete when every token arrived, a failure otherwise.</summary>
    public void Ended(int stream)
    {
        if (_received[stream] == _tokens)
        {
            _complete[stream] = true;
            Interlocked.Increment(ref _completed);
        }
        else
        {
            Fail(stream, $"ended after {_received[stream]} of {_tokens} tokens");
        }
    }

    public void StreamFailed(int stream, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Fail(stream, $"{exception.GetType().Name}: {exception.Message}");
    }

    private void Fail(int stream, string what)
    {
        Interlocked.Increment(ref _failed);
        if (_received[stream] == 0)
        {
            Interlocked.Increment(ref _failedBeforeFirstToken);
        }

        Interlocked.CompareExchange(ref _firstError, $"stream {stream}: {what}", null);
    }
}
