using Plexus.Transport.Conformance;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The conformance kit over real QUIC connections on loopback, with TLS from test certificates and the default TwoPart
/// codec. It measures the process's memory, so it runs alone.
/// </summary>
[Collection(QuicMeasuresMemoryCollection.Name)]
public sealed class QuicTransportConformanceTests(TestCertificates certificates) : TransportConformanceTests, IClassFixture<TestCertificates>
{
    // 256 streams left unread each hold at most a send buffer on the server; 64 KiB keeps the flood's cost declared
    // below the kit's 64 MiB (the default 256 KiB would allow 64 MiB for those streams alone).
    private const int SendBufferBytes = 64 * 1024;

    // A slow reader holds at most one stream window of flushed-but-unread response bytes, plus what QUIC holds for
    // it on the server (the send buffer) and one flush batch of the writer.
    protected override long MaxBufferedBytes => new QuicTransportOptions().StreamWindowBytes + SendBufferBytes + (64 * 1024);

    protected override long MaxPayloadBytes => new QuicTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync()
    {
        var options = QuicTestOptions.Loopback(certificates);
        options.SendBufferBytes = SendBufferBytes;
        return ValueTask.FromResult<ITransportFactory>(QuicTestOptions.Factory(options));
    }
}
