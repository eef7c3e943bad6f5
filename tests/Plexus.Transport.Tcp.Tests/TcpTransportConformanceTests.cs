using Plexus.Transport.Conformance;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>The conformance kit over real loopback sockets, with the default TwoPart codec.</summary>
public sealed class TcpTransportConformanceTests : TransportConformanceTests
{
    // A slow reader holds at most one stream window of flushed-but-unread response bytes.
    protected override long MaxBufferedBytes => new TcpTransportOptions().StreamWindowBytes;

    protected override long MaxPayloadBytes => new TcpTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(new TcpTransportFactory(TestOptions.Loopback(), TestCodecs.TwoPart()));
}
