using Plexus.Transport.Conformance;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// The conformance kit in low-latency mode: every connection on a thread of its own, requests running on the server's
/// reader thread and callers' continuations on the client's, frames written through by their senders. The same rules
/// hold as in the default mode. It measures the process's memory, so it runs alone.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class TcpTransportLowLatencyConformanceTests : TransportConformanceTests
{
    protected override long MaxBufferedBytes => new TcpTransportOptions().StreamWindowBytes;

    protected override long MaxPayloadBytes => new TcpTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync()
    {
        var options = TestOptions.Loopback();
        options.StalledPeerTimeout = TimeSpan.FromSeconds(2);
        options.LowLatency = true;
        return ValueTask.FromResult<ITransportFactory>(new TcpTransportFactory(options, TestCodecs.TwoPart()));
    }

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
