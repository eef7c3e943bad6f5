namespace Plexus.Bench;

/// <summary>
/// The serving scenario's workload: many concurrent token streams on one client, each a request answered by
/// <see cref="Tokens"/> tokens of <see cref="TokenBytes"/> bytes at <see cref="TokenRate"/> tokens per second.
/// </summary>
/// <param name="Streams">The numbers of concurrent streams to measure, ascending.</param>
/// <param name="Connections">The numbers of connections the streams are spread over, ascending.</param>
/// <param name="Tokens">Tokens per stream.</param>
/// <param name="TokenRate">Tokens per second per stream.</param>
/// <param name="TokenBytes">Bytes per token.</param>
internal sealed record ServingSettings(IReadOnlyList<int> Streams, IReadOnlyList<int> Connections, int Tokens, double TokenRate, int TokenBytes)
{
    public const int DefaultStreams = 1000;

    public const int DefaultConnections = 1;

    public const int DefaultTokens = 64;

    public const double DefaultTokenRate = 50;

    public const int DefaultTokenBytes = 32;

    public const int MaxStreams = 100_000;

    public const int MaxConnections = 10_000;

    /// <summary>Fewer would leave no gap between two paced tokens to measure (the first token is not paced).</summary>
    public const int MinTokens = 3;

    public const int MaxTokens = 4096;

    /// <summary>The size of a short text token in a streamed response; room for the stream and sequence number it carries (<see cref="ServingToken"/>).</summary>
    public const int MinTokenBytes = 16;

    public const int MaxTokenBytes = 64;

    /// <summary>A pace of ten seconds at most: the scenario is about many streams, not slow ones.</summary>
    public const double MinTokenRate = 0.1;

    /// <summary>One token per tick of the pacer (<see cref="ServingPacer.DefaultTick"/>) at most.</summary>
    public const double MaxTokenRate = 1000;

    /// <summary>Every arrival is kept until the end (8 bytes each): 16 Mi of them is 128 MiB.</summary>
    public const long MaxRecordedTokens = 16L << 20;

    public static ServingSettings Default { get; } = new([DefaultStreams], [DefaultConnections], DefaultTokens, DefaultTokenRate, DefaultTokenBytes);

    /// <summary>Every (streams, connections) pair measured, in table order.</summary>
    public IEnumerable<ServingPlan> Plans
    {
        get
        {
            foreach (var streams in Streams)
            {
                foreach (var connections in Connections)
                {
                    if (connections <= streams)
                    {
                        yield return new ServingPlan(streams, connections, Tokens, TokenRate, TokenBytes);
                    }
                }
            }
        }
    }

    /// <summary>The most streams any connection of any plan carries.</summary>
    public int MaxStreamsPerConnection
    {
        get
        {
            var most = 0;
            foreach (var plan in Plans)
            {
                most = Math.Max(most, plan.StreamsPerConnection);
            }

            return most;
        }
    }
}

/// <summary>One measurement of the serving scenario: <paramref name="Streams"/> streams over <paramref name="Connections"/> connections.</summary>
internal sealed record ServingPlan(int Streams, int Connections, int Tokens, double TokenRate, int TokenBytes)
{
    /// <summary>The time between two tokens of one stream.</summary>
    public TimeSpan Pace => TimeSpan.FromSeconds(1 / TokenRate);

    /// <summary>The pace in timestamp ticks of a clock running at <paramref name="frequency"/> ticks per second.</summary>
    public long PaceTicks(long frequency) => (long)Math.Round(frequency / TokenRate);

    /// <summary>Streams per connection, rounded up: stream i goes over connection i mod <see cref="Connections"/>.</summary>
    public int StreamsPerConnection => (Streams + Connections - 1) / Connections;

    /// <summary>Tokens per second over all streams once every stream is flowing.</summary>
    public double TokensPerSecond => Streams * TokenRate;

    /// <summary>
    /// The rate new streams are opened at: the rate at which requests arrive in a steady state of this many streams,
    /// each lasting <see cref="Tokens"/> ÷ <see cref="TokenRate"/> seconds. Opening them all takes that long.
    /// </summary>
    public double OpensPerSecond => Streams * TokenRate / Tokens;

    /// <summary>How long one stream's tokens take at the pace; opening all streams takes as long.</summary>
    public TimeSpan StreamLifetime => TimeSpan.FromSeconds(Tokens / TokenRate);

    public long TotalTokens => (long)Streams * Tokens;
}
