using Microsoft.Extensions.Options;

namespace Plexus.Service.Demo.Tests;

public sealed class GenerateHandlerTests
{
    private static GenerateHandler Handler(int maxTokens = 8) =>
        new(Options.Create(new DemoOptions { MaxTokens = maxTokens, TokenDelay = TimeSpan.Zero }), TimeProvider.System);

    [Fact]
    public async Task Streams_the_prompt_then_max_tokens_words_one_message_each()
    {
        var writer = new RecordingWriter();

        await Handler(maxTokens: 5).HandleAsync(Requests.For("demo/echo/generate", "hello there"), writer);

        Assert.Equal(7, writer.Messages.Count);
        Assert.Equal("hello", writer.Messages[0]);
        Assert.Equal(" there", writer.Messages[1]);
        Assert.All(writer.Messages.Skip(1), m => Assert.StartsWith(" ", m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_same_prompt_streams_the_same_tokens_and_the_header_sets_how_many()
    {
        var first = new RecordingWriter();
        var second = new RecordingWriter();
        var headers = new Dictionary<string, string> { ["max-tokens"] = "3" };

        await Handler().HandleAsync(Requests.For("demo/echo/generate", "same", headers), first);
        await Handler().HandleAsync(Requests.For("demo/echo/generate", "same", headers), second);

        Assert.Equal(4, first.Messages.Count);
        Assert.Equal(first.Messages, second.Messages);
    }

    [Fact]
    public async Task A_max_tokens_header_that_is_not_a_count_is_refused()
    {
        var headers = new Dictionary<string, string> { ["max-tokens"] = "lots" };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Handler().HandleAsync(Requests.For("demo/echo/generate", "x", headers), new RecordingWriter()).AsTask());

        Assert.Contains("max-tokens", ex.Message, StringComparison.Ordinal);
    }
}
