using Plexus.Transport.Conformance;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The conformance kit over real QUIC connections on loopback, with TLS from test certificates, the default TwoPart
/// codec and the transport's default limits. It measures the process's memory, so it runs alone.
/// </summary>
[Collection(QuicMeasuresMemoryCollection.Name)]
public sealed class QuicTransportConformanceTests(TestCertificates certificates) : TransportConformanceTests, IClassFixture<TestCertificates>
{
    // A slow reader holds at most one stream window of flushed-but-unread response bytes, plus what QUIC holds for
    // it on the server (the send buffer) and one flush batch of the writer. (The 256 requests a peer leaves unread
    // are bounded together by the connection's ConnectionSendBufferBytes, 16 MiB, not by a send buffer each.)
    protected override long MaxBufferedBytes
    {
        get
        {
            var defaults = new QuicTransportOptions();
            return defaults.StreamWindowBytes + defaults.SendBufferBytes + (64 * 1024);
        }
    }

    protected override long MaxPayloadBytes => new QuicTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(QuicTestOptions.Factory(QuicTestOptions.Loopback(certificates)));
}
