namespace Plexus.Bench.Tests;

/// <summary>The serving figures from known timestamps: a clock of 1,000,000 ticks per second, so a tick is a microsecond.</summary>
public sealed class ServingLatenciesTests
{
    private const long Frequency = 1_000_000;
    private const long Pace = 20_000;

    [Fact]
    public void Time_to_first_token_runs_from_the_send_to_the_first_arrival()
    {
        // Three streams of 3 tokens: first tokens 100, 200 and 900 µs after their sends.
        long[] sent = [1_000, 2_000, 3_000];
        long[] arrivals =
        [
            1_100, 50_000, 70_000,
            2_200, 51_000, 71_000,
            3_900, 52_000, 72_000,
        ];

        var l = ServingLatencies.Compute(sent, arrivals, [true, true, true], 3, Pace, Frequency)!;

        Assert.Equal(3, l.Streams);
        Assert.Equal(200, l.TtftP50Microseconds);
        Assert.Equal(900, l.TtftP99Microseconds);
    }

    [Fact]
    public void Added_inter_token_latency_is_each_gap_minus_the_pace_from_the_second_paced_token_on()
    {
        // Tokens 0 and 1 are apart by the idle wait (not counted); then gaps of 20,000 + 10, + 30, + 500 and - 40.
        long[] sent = [0, 0];
        long[] arrivals =
        [
            100, 900_000, 920_010, 940_040,
            100, 905_000, 925_500, 945_460,
        ];

        var l = ServingLatencies.Compute(sent, arrivals, [true, true], 4, Pace, Frequency)!;

        Assert.Equal(4, l.GapSamples);
        Assert.Equal(10, l.AddedItlP50Microseconds);
        Assert.Equal(500, l.AddedItlP99Microseconds);
        Assert.Equal(500, l.AddedItlMaxMicroseconds);
    }

    [Fact]
    public void A_gap_shorter_than_the_pace_counts_as_negative()
    {
        long[] arrivals = [0, 100_000, 119_000, 139_000];

        var l = ServingLatencies.Compute([0], arrivals, [true], 4, Pace, Frequency)!;

        // Gaps: 19,000 (-1,000) and 20,000 (0).
        Assert.Equal(-1_000, l.AddedItlP50Microseconds);
        Assert.Equal(0, l.AddedItlMaxMicroseconds);
    }

    [Fact]
    public void Only_streams_served_completely_count()
    {
        long[] sent = [0, 0];
        long[] arrivals =
        [
            50, 1_000, 21_000, 41_000,
            999_999, 1_000, 0, 0,
        ];

        var l = ServingLatencies.Compute(sent, arrivals, [true, false], 4, Pace, Frequency)!;

        Assert.Equal(1, l.Streams);
        Assert.Equal(50, l.TtftP99Microseconds);
        Assert.Equal(2, l.GapSamples);
        Assert.Equal(0, l.AddedItlMaxMicroseconds);
    }

    [Fact]
    public void Nothing_served_is_no_figure_and_percentiles_follow_the_clock_frequency()
    {
        Assert.Null(ServingLatencies.Compute([0], [0, 0, 0], [false], 3, Pace, Frequency));

        // At a nanosecond clock the same 1,500 ticks are 1.5 µs.
        var l = ServingLatencies.Compute([0], [1_500, 50_000_000, 70_000_000], [true], 3, 20_000_000, 1_000_000_000)!;
        Assert.Equal(1.5, l.TtftP50Microseconds);
        Assert.Equal(0, l.AddedItlP50Microseconds);
    }

    [Fact]
    public void The_log_records_arrivals_in_order_and_counts_how_streams_ended()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var log = new ServingLog(3, 2, time);
        log.Sent(0);
        time.Advance(TimeSpan.FromTicks(10));
        Assert.Equal(0, log.Arrived(0));
        Assert.Equal(1, log.Arrived(0));
        Assert.Throws<InvalidDataException>(() => log.Arrived(0));
        log.Ended(0);
        Assert.Equal(0, log.Arrived(1));
        log.Ended(1);
        log.StreamFailed(2, new IOException("gone"));

        Assert.Equal(1, log.Completed);
        Assert.Equal(2, log.Failed);
        Assert.Equal(2, log.FirstTokens);
        Assert.Equal(0, log.AwaitingFirstToken);
        Assert.Equal(3, log.TokensReceived);
        Assert.Equal([true, false, false], log.Complete.ToArray());
        Assert.Equal("stream 1: ended after 1 of 2 tokens", log.FirstError);
        Assert.Equal(log.SentTimes[0] + 10, log.Arrivals[0]);
    }
}

public sealed class ServingTokenTests
{
    [Fact]
    public void A_token_names_its_stream_and_place_and_a_request_round_trips()
    {
        var token = new byte[24];
        ServingToken.Write(token, 7, 3);

        Assert.True(ServingToken.Matches(token, 7, 3, 24));
        Assert.False(ServingToken.Matches(token, 8, 3, 24));
        Assert.False(ServingToken.Matches(token, 7, 4, 24));
        Assert.False(ServingToken.Matches(token, 7, 3, 32));

        // Split over two segments, as a transport may hand it over.
        var first = new Segment(token.AsMemory(0, 5));
        var last = first.Append(token.AsMemory(5));
        Assert.True(ServingToken.Matches(new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), 7, 3, 24));

        var request = new ServingRequest(42, 64, 32);
        Assert.Equal(request, ServingRequest.Read(new System.Buffers.ReadOnlySequence<byte>(request.ToArray())));
        Assert.Throws<InvalidDataException>(() => ServingRequest.Read(new byte[15]));
        Assert.Throws<InvalidDataException>(() => ServingRequest.Read(new ServingRequest(1, 64, 65).ToArray()));
    }

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
