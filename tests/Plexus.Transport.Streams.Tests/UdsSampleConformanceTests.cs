using Acme.Uds;
using Microsoft.Extensions.Options;
using Plexus.Transport.Conformance;

namespace Plexus.Transport.Streams.Tests;

/// <summary>The kit measures the process's memory, so its tests run alone.</summary>
[CollectionDefinition(nameof(MeasuresMemory), DisableParallelization = true)]
public sealed class MeasuresMemory;

/// <summary>Every rule of the conformance kit, against the template's uds transport on the stream protocol.</summary>
[Collection(nameof(MeasuresMemory))]
public sealed class UdsSampleConformanceTests : TransportConformanceTests
{
    /// <inheritdoc />
    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(new UdsTransportFactory(Options.Create(new UdsTransportOptions { MaxPayloadBytes = MaxPayloadBytes })));
}
