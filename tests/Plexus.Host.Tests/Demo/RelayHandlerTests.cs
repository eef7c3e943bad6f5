using System.Buffers;
using Moq;
using Plexus.Host.Demo;
using Plexus.Host.Tests.RequestPlane;

namespace Plexus.Host.Tests.Demo;

public sealed class RelayHandlerTests
{
    [Fact]
    public async Task A_request_whose_deadline_passed_is_not_relayed_without_a_limit()
    {
        await using var harness = new RouterHarness();
        await harness.AddInstanceAsync("target", 1, ScriptedTransport.Hangs());
        var handler = new RelayHandler(harness.Router, TimeProvider.System);
        var request = new RequestContext(
            EndpointAddress.Parse("demo/echo/relay"),
            "r1",
            ReadOnlySequence<byte>.Empty,
            new Dictionary<string, string> { [RelayHandler.TargetHeader] = RouterHarness.Endpoint.ToString() },
            DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1),
            CancellationToken.None);

        var ex = await Assert.ThrowsAsync<PlexusException>(() => handler.HandleAsync(request, Mock.Of<IResponseWriter>()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(PlexusErrorCode.Timeout, ex.Code);
        Assert.Empty(harness.Transport.Sent);
    }
}
