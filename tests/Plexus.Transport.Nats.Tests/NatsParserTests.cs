using System.Buffers;
using System.Text;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats.Tests;

public sealed class NatsParserTests
{
    private const string Stream =
        "INFO {\"server_id\":\"S1\",\"max_payload\":1048576,\"headers\":true}\r\n" +
        "MSG orders.new 7 5\r\nhello\r\n" +
        "MSG orders.new 7 _INBOX.abc.1 0\r\n\r\n" +
        "PING\r\n" +
        "HMSG req.echo 12 _INBOX.x.9 24 29\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nworld\r\n" +
        "+OK\r\n" +
        "hmsg lower 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n" +
        "PONG\r\n" +
        "-ERR 'Authorization Violation'\r\n" +
        "MSG bin 1 4\r\n\r\n\r\n\r\n";

    [Fact]
    public void WholeStream_ParsesEveryFrame()
    {
        var frames = ParseAll(Segments.Cut(Encoding.ASCII.GetBytes(Stream)));

        AssertExpected(frames);
    }

    [Fact]
    public void SplitAtEveryByteBoundary_ParsesTheSameFrames()
    {
        var bytes = Encoding.ASCII.GetBytes(Stream);
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            // As two reads: everything up to the cut, then the rest appended.
            var frames = new List<string>();
            var parser = new NatsParser(1024 * 1024);
            var first = new ReadOnlySequence<byte>(bytes, 0, cut);
            while (parser.TryRead(ref first, out var frame))
            {
                frames.Add(Describe(frame));
            }

            var consumed = cut - (int)first.Length;
            var rest = Segments.Cut(bytes[consumed..], cut - consumed);
            while (parser.TryRead(ref rest, out var frame))
            {
                frames.Add(Describe(frame));
            }

            Assert.True(rest.IsEmpty, $"Cut at {cut}: {rest.Length} bytes left unparsed.");
            AssertExpected(frames);
        }
    }

    [Fact]
    public void OneByteAtATime_ParsesTheSameFrames()
    {
        var bytes = Encoding.ASCII.GetBytes(Stream);
        var cuts = Enumerable.Range(1, bytes.Length - 1).ToArray();

        AssertExpected(ParseAll(Segments.Cut(bytes, cuts)));

        // And as a reader sees it: the buffer grows one byte per read, parsed after each.
        var parser = new NatsParser(1024 * 1024);
        var frames = new List<string>();
        var start = 0;
        for (var end = 1; end <= bytes.Length; end++)
        {
            var window = new ReadOnlySequence<byte>(bytes, start, end - start);
            while (parser.TryRead(ref window, out var frame))
            {
                frames.Add(Describe(frame));
            }

            start = end - (int)window.Length;
        }

        AssertExpected(frames);
    }

    [Theory]
    [InlineData("BOGUS\r\n", "unknown operation")]
    [InlineData("MSG subject\r\n", "malformed MSG")]
    [InlineData("MSG subject 1 2 3 4\r\n", "malformed MSG")]
    [InlineData("MSG subject x 5\r\nhello\r\n", "subscription id")]
    [InlineData("MSG subject 1 -5\r\n", "size")]
    [InlineData("MSG subject 1 5\r\nhelloXX", "not followed by CRLF")]
    [InlineData("HMSG subject 1 10 5\r\n", "exceeds its total size")]
    [InlineData("HMSG subject 1 5\r\n", "malformed HMSG")]
    [InlineData("PING extra\r\n", "unexpected arguments")]
    [InlineData("INFO nojson\r\n", "JSON")]
    public void MalformedInput_IsAProtocolError(string input, string expected)
    {
        var parser = new NatsParser(1024);
        var bytes = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(input));

        var error = Assert.Throws<NatsProtocolException>(() => parser.TryRead(ref bytes, out _));

        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(NatsErrorKind.Protocol, error.Kind);
    }

    [Fact]
    public void SizeAboveMaxPayload_IsRefusedBeforeThePayloadArrives()
    {
        var parser = new NatsParser(maxPayload: 100);
        var bytes = new ReadOnlySequence<byte>("MSG big 1 101\r\n"u8.ToArray());

        var error = Assert.Throws<NatsProtocolException>(() => parser.TryRead(ref bytes, out _));

        Assert.Contains("max_payload", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlLineWithoutEnd_IsRefusedOnceTooLong()
    {
        var parser = new NatsParser(1024, maxControlLine: 64);
        var shortLine = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("MSG " + new string('a', 40)));
        var longLine = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("MSG " + new string('a', 100)));

        Assert.False(parser.TryRead(ref shortLine, out _));
        Assert.Throws<NatsProtocolException>(() => parser.TryRead(ref longLine, out _));
    }

    [Fact]
    public void IncompleteFrame_LeavesTheInputUntouched()
    {
        var parser = new NatsParser(1024);
        var bytes = new ReadOnlySequence<byte>("MSG a 1 10\r\nhello"u8.ToArray());
        var before = bytes;

        Assert.False(parser.TryRead(ref bytes, out _));
        Assert.Equal(before.Length, bytes.Length);
    }

    [Fact]
    public void HeaderReader_ReadsStatusAndHeaders()
    {
        var reader = new NatsHeaderReader("NATS/1.0 503 No Responders\r\nName: value with spaces \r\nEmpty:\r\nX: a:b\r\n\r\n"u8);

        Assert.Equal(503, reader.Status);
        Assert.Equal("No Responders", Encoding.ASCII.GetString(reader.Description));
        var seen = new List<string>();
        while (reader.MoveNext())
        {
            seen.Add($"{Encoding.ASCII.GetString(reader.Name)}={Encoding.ASCII.GetString(reader.Value)}");
        }

        Assert.Equal(["Name=value with spaces ", "Empty=", "X=a:b"], seen);
    }

    [Theory]
    [InlineData("HTTP/1.1 200\r\n\r\n")]
    [InlineData("NATS/1.0 5x3\r\n\r\n")]
    public void HeaderReader_RefusesABadStatusLine(string block)
    {
        Assert.Throws<NatsProtocolException>(() => new NatsHeaderReader(Encoding.ASCII.GetBytes(block)));
    }

    [Fact]
    public void HeaderWriter_WritesABlockTheReaderReadsBack()
    {
        var writer = new NatsHeaderWriter(8);
        writer.Start().Add("Plexus-Seq"u8, 42).Add("traceparent", "00-abc-01").Add("x-unicode", "naïve ✓");
        var block = writer.End();

        var reader = new NatsHeaderReader(block.Span);
        Assert.Equal(0, reader.Status);
        Assert.True(reader.MoveNext());
        Assert.Equal("42", Encoding.UTF8.GetString(reader.Value));
        Assert.True(reader.MoveNext());
        Assert.Equal("traceparent", Encoding.UTF8.GetString(reader.Name));
        Assert.True(reader.MoveNext());
        Assert.Equal("naïve ✓", Encoding.UTF8.GetString(reader.Value));
        Assert.False(reader.MoveNext());
    }

    private static List<string> ParseAll(ReadOnlySequence<byte> bytes)
    {
        var parser = new NatsParser(1024 * 1024);
        var frames = new List<string>();
        while (parser.TryRead(ref bytes, out var frame))
        {
            frames.Add(Describe(frame));
        }

        Assert.True(bytes.IsEmpty, $"{bytes.Length} bytes left unparsed.");
        return frames;
    }

    private static void AssertExpected(List<string> frames) => Assert.Equal(
        [
            "Info||0|||{\"server_id\":\"S1\",\"max_payload\":1048576,\"headers\":true}",
            "Msg|orders.new|7|||hello",
            "Msg|orders.new|7|_INBOX.abc.1||",
            "Ping||0|||",
            "HMsg|req.echo|12|_INBOX.x.9|NATS/1.0\r\nA: b\r\nC: d\r\n\r\n|world",
            "Ok||0|||",
            "HMsg|lower|3||NATS/1.0 503\r\n\r\n|",
            "Pong||0|||",
            "Err||0|||Authorization Violation",
            "Msg|bin|1|||\r\n\r\n",
        ],
        frames);

    private static string Describe(NatsFrame frame) =>
        $"{frame.Op}|{Text(frame.Subject)}|{frame.Sid}|{Text(frame.ReplyTo)}|{Text(frame.Headers)}|{Text(frame.Payload)}";

    private static string Text(ReadOnlySequence<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
