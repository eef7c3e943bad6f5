namespace Plexus.Service.Demo.Tests;

public sealed class RelayHandlerTests
{
    [Fact]
    public async Task A_request_whose_deadline_passed_is_not_relayed_without_a_limit()
    {
        var client = new RecordingClient("never");
        var handler = new RelayHandler(client, TimeProvider.System);
        var request = Requests.For("demo/echo/relay", "x", new() { [RelayHandler.TargetHeader] = "demo/echo/echo" }, DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<PlexusException>(() => handler.HandleAsync(request, new RecordingWriter()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(PlexusErrorCode.Timeout, ex.Code);
        Assert.Empty(client.Calls);
    }

    [Fact]
    public async Task Relays_the_payload_within_what_is_left_of_the_deadline_and_streams_every_answer_back()
    {
        var client = new RecordingClient("one", "two", "three");
        var handler = new RelayHandler(client, TimeProvider.System);
        var writer = new RecordingWriter();
        var request = Requests.For("demo/echo/relay", "hello", new() { [RelayHandler.TargetHeader] = "other/echo/generate" }, DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1));

        await handler.HandleAsync(request, writer);

        var call = Assert.Single(client.Calls);
        Assert.Equal(EndpointAddress.Parse("other/echo/generate"), call.Endpoint);
        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(call.Payload));
        Assert.InRange(call.Options!.Timeout!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        Assert.Equal(["one", "two", "three"], writer.Messages);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-an-endpoint")]
    public async Task Without_a_valid_relay_to_header_it_refuses_and_calls_nothing(string? target)
    {
        var client = new RecordingClient();
        var headers = target is null ? new Dictionary<string, string>() : new() { [RelayHandler.TargetHeader] = target };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new RelayHandler(client, TimeProvider.System).HandleAsync(Requests.For("demo/echo/relay", "x", headers), new RecordingWriter()).AsTask());

        Assert.Contains("relay-to", ex.Message, StringComparison.Ordinal);
        Assert.Empty(client.Calls);
    }
}
