using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class ResponseWriterExtensionsTests
{
    [Fact]
    public void WriteMessage_fills_as_many_spans_as_needed_and_ends_one_message()
    {
        var writer = new RecordingResponseWriter(maxSpan: 3);
        var message = Enumerable.Range(0, 10).Select(i => (byte)i).ToArray();

        writer.WriteMessage(message);

        Assert.Equal(message, Assert.Single(writer.Messages));
        Assert.Equal(4, writer.SpansHandedOut);
        Assert.Equal(0, writer.Flushes);
    }

    [Fact]
    public void WriteMessage_of_nothing_ends_an_empty_message()
    {
        var writer = new RecordingResponseWriter();

        writer.WriteMessage(ReadOnlySpan<byte>.Empty);

        Assert.Empty(Assert.Single(writer.Messages));
        Assert.Equal(0, writer.SpansHandedOut);
    }

    [Fact]
    public void Several_messages_stay_separate_until_one_flush()
    {
        var writer = new RecordingResponseWriter(maxSpan: 2);

        writer.WriteMessage("abc"u8);
        writer.WriteMessage("de"u8);

        Assert.Equal(["abc", "de"], writer.Messages.Select(m => System.Text.Encoding.ASCII.GetString(m)));
        Assert.Equal(0, writer.Flushes);
    }

    [Fact]
    public async Task WriteMessageAsync_writes_then_flushes_once()
    {
        var writer = new RecordingResponseWriter(maxSpan: 4);

        await writer.WriteMessageAsync("hello world"u8.ToArray());

        Assert.Equal("hello world"u8.ToArray(), Assert.Single(writer.Messages));
        Assert.Equal(1, writer.Flushes);
    }

    [Fact]
    public async Task A_null_writer_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => ResponseWriterExtensions.WriteMessage(null!, "x"u8));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await ResponseWriterExtensions.WriteMessageAsync(null!, new byte[1]));
    }
}
