using System.Buffers;
using Plexus.Transport.Conformance;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// The conformance kit over a real nats-server (default 1 MiB max_payload, so large payloads are chunked). "Killing
/// the server" kills the transport's server side (its NATS socket is reset without a goodbye), not nats-server: the
/// broker staying up while a serving process dies is the failure the transport has to detect. It measures the
/// process's memory, so it runs alone.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class NatsTransportConformanceTests(NatsServerFixture nats) : TransportConformanceTests, IClassFixture<NatsServerFixture>
{
    private const long Window = 1024 * 1024;

    // The credit window, one window of grants not yet sent (granted every quarter window) and a message or two.
    protected override long MaxBufferedBytes => 2 * Window;

    protected override long MaxPayloadBytes => new NatsTransportOptions().MaxPayloadBytes;

    protected override TimeSpan DeadPeerDetectedWithin => TimeSpan.FromSeconds(5);

    // NATS flow control is per request (docs/protocol/nats.md): the client in this process that never reads holds up
    // to one window per request, 16 MiB here, all of it delivered to it by nats-server. What the server side keeps
    // beside that is what the kit's bound is about.
    protected override int UnreadRequests => 16;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(new NatsTransportFactory(
            new NatsTransportOptions
            {
                Url = nats.Server.Url.ToString(),
                WindowBytes = Window,
                KeepAliveInterval = TimeSpan.FromSeconds(1),
            },
            ArrayPool<byte>.Shared));

    protected override ValueTask KillServerAsync(IRequestPlaneServer server)
    {
        ((NatsServer)server).Kill();
        return default;
    }
}
