using System.Buffers;
using Plexus.Transport.Conformance;

namespace Plexus.Transport.Memory.Tests;

/// <summary>
/// The conformance kit against the memory transport, with small buffers so that back-pressure is tight. It measures
/// the process's memory, so it runs alone.
/// </summary>
[Collection(MeasuresMemoryCollection.Name)]
public sealed class MemoryTransportConformanceTests : TransportConformanceTests
{
    private const long BufferedBytes = 1024 * 1024;

    protected override long MaxBufferedBytes => BufferedBytes;

    protected override long MaxPayloadBytes => new MemoryTransportOptions().MaxPayloadBytes;

    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(new MemoryTransportFactory(
            new MemoryTransportOptions { MaxBufferedBytes = BufferedBytes, MaxBufferedMessages = 256, MaxBufferedBytesPerClient = 16 * BufferedBytes },
            ArrayPool<byte>.Shared));
}
