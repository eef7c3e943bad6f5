using System.Buffers;
using System.Text;
using System.Text.Json;
using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

/// <summary>The unary and JSON conveniences over <see cref="IPlexusClient"/>, and the JSON helpers for handlers.</summary>
public sealed class CallingHelpersTests
{
    private static readonly EndpointAddress Endpoint = EndpointAddress.Parse("tests/calling/one");

    private sealed record Question(string Text, int Max);

    private sealed record Answer(string Word, int Index);

    [Fact]
    public async Task A_unary_call_returns_its_one_message_and_refuses_none_or_several()
    {
        var one = new ScriptedClient([[1, 2, 3]]);
        Assert.Equal([1, 2, 3], await one.CallUnaryAsync(Endpoint, new byte[] { 9 }));
        Assert.Equal([9], one.Payloads.Single());
        Assert.True(one.Streams.Single().Disposed);

        var none = await Assert.ThrowsAsync<PlexusException>(async () => await new ScriptedClient([]).CallUnaryAsync(Endpoint, Array.Empty<byte>()));
        var two = await Assert.ThrowsAsync<PlexusException>(async () => await new ScriptedClient([[1], [2]]).CallUnaryAsync(Endpoint, Array.Empty<byte>()));
        Assert.Equal((PlexusErrorCode.ProtocolError, PlexusErrorCode.ProtocolError), (none.Code, two.Code));
        Assert.Contains("no message", none.Message, StringComparison.Ordinal);
        Assert.Contains("more than one", two.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_calls_send_the_request_as_json_and_read_each_answer()
    {
        var unary = new ScriptedClient([Encoding.UTF8.GetBytes("""{"word":"hi","index":0}""")]);
        Assert.Equal(new Answer("hi", 0), await unary.CallJsonAsync<Question, Answer>(Endpoint, new Question("hello", 2)));
        Assert.Equal("""{"text":"hello","max":2}""", Encoding.UTF8.GetString(unary.Payloads.Single()));

        var streamed = new ScriptedClient([Encoding.UTF8.GetBytes("""{"word":"a","index":0}"""), Encoding.UTF8.GetBytes("""{"word":"b","index":1}""")]);
        var answers = new List<Answer>();
        await foreach (var answer in streamed.StreamJsonAsync<Question, Answer>(Endpoint, new Question("x", 2)))
        {
            answers.Add(answer);
        }

        Assert.Equal([new Answer("a", 0), new Answer("b", 1)], answers);

        var garbage = new ScriptedClient([Encoding.UTF8.GetBytes("not json")]);
        var error = await Assert.ThrowsAsync<PlexusException>(async () => await garbage.CallJsonAsync<Question, Answer>(Endpoint, new Question("x", 1)));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains(nameof(Answer), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handlers_read_the_request_and_write_messages_as_json()
    {
        var request = new RequestContext(Endpoint, "r1", new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("""{"text":"hello","max":2}""")), new Dictionary<string, string>(), null, CancellationToken.None);
        Assert.Equal(new Question("hello", 2), request.ReadJson<Question>());

        var writer = new RecordingResponseWriter();
        await writer.WriteJsonAsync(new Answer("hi", 1));
        Assert.Equal("""{"word":"hi","index":1}""", Encoding.UTF8.GetString(writer.Messages.Single()));
        Assert.Equal(1, writer.Flushes);

        var bad = new RequestContext(Endpoint, "r2", new ReadOnlySequence<byte>("{"u8.ToArray()), new Dictionary<string, string>(), null, CancellationToken.None);
        var error = Assert.Throws<PlexusException>(() => bad.ReadJson<Question>());
        Assert.Equal(PlexusErrorCode.HandlerError, error.Code);
        Assert.Contains("tests/calling/one", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A client that answers every call with the same scripted messages and keeps what it was sent.</summary>
    private sealed class ScriptedClient(byte[][] messages) : IPlexusClient
    {
        public List<byte[]> Payloads { get; } = [];

        public List<ScriptedResponseStream> Streams { get; } = [];

        public ValueTask<IResponseStream> CallAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CallOptions? options = null, CancellationToken cancellationToken = default)
        {
            Payloads.Add(payload.ToArray());
            var stream = new ScriptedResponseStream(messages);
            Streams.Add(stream);
            return ValueTask.FromResult<IResponseStream>(stream);
        }
    }
}
