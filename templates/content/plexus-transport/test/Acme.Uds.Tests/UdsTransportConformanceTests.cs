using Microsoft.Extensions.Options;
using Plexus;
using Plexus.Transport.Conformance;
using Xunit;

namespace Acme.Uds.Tests;

/// <summary>The kit measures the process's memory, so its tests run alone.</summary>
[CollectionDefinition(nameof(MeasuresMemory), DisableParallelization = true)]
public sealed class MeasuresMemory;

/// <summary>Every rule of the conformance kit, against the uds transport built with its public factory and options.</summary>
[Collection(nameof(MeasuresMemory))]
public sealed class UdsTransportConformanceTests : TransportConformanceTests
{
    /// <inheritdoc />
    protected override ValueTask<ITransportFactory> CreateFactoryAsync() =>
        ValueTask.FromResult<ITransportFactory>(new UdsTransportFactory(Options.Create(new UdsTransportOptions { MaxPayloadBytes = MaxPayloadBytes })));
}
