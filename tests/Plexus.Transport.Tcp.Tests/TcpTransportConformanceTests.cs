using Plexus.Transport.Conformance;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// The conformance kit over real loopback sockets, with the default TwoPart codec. It measures the process's memory, so
/// it runs alone.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class TcpTransportConformanceTests : TransportConformanceTests
{
    // A slow reader holds at most one stream window of flushed-but-unread response bytes.
    protected override long MaxBufferedBytes => new TcpTransportOptions().StreamWindowBytes;

    protected override long MaxPayloadBytes => new TcpTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync()
    {
        // A stalled peer is closed well within the flood, so the flooders reconnect and the memory of closed
        // connections has to come back while the flood goes on.
        var options = TestOptions.Loopback();
        options.StalledPeerTimeout = TimeSpan.FromSeconds(2);
        return ValueTask.FromResult<ITransportFactory>(new TcpTransportFactory(options, TestCodecs.TwoPart()));
    }

    /// <summary>
    /// Besides the kit's client that never reads its responses, two raw sockets that never read a byte: one floods
    /// PINGs, one floods requests to an endpoint nobody serves (issue 8's reproductions). Each opens a new connection
    /// whenever the server closes one, until it is stopped.
    /// </summary>
    protected override async Task<IAsyncDisposable> StartPeerThatNeverReadsAsync(FloodTarget target)
    {
        var unread = await base.StartPeerThatNeverReadsAsync(target);
        var server = ((TcpServer)Server).BoundEndPoint!;
        var limit = FloodDuration + StepTimeout;
        return new Peers(unread, RawFlood.Pings(server, reconnect: true, limit), RawFlood.UnknownEndpointRequests(server, reconnect: true, limit));
    }

    private sealed class Peers(params IAsyncDisposable[] peers) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }
}
