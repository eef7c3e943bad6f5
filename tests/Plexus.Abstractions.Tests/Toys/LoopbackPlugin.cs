using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The plugin entry a third party would ship: adds every toy, configured from its own section.</summary>
internal sealed class LoopbackPlugin : IPlexusPlugin
{
    public const string SectionName = "Plexus:Transports:Loopback";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(SectionName);
        var capacity = 16;
        if (section["ResponseCapacity"] is { } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out capacity) || capacity < 1))
        {
            throw new InvalidOperationException($"{SectionName}:ResponseCapacity is '{text}'; set it to a whole number of at least 1.");
        }

        var fabric = new LoopbackBulkFabric();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransportFactory>(new LoopbackTransportFactory(capacity)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameCodec, LengthPrefixCodec>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouterStrategy, FirstIdleRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDiscoveryProvider>(new InMemoryDiscoveryProvider(TimeProvider.System)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBulkTransport>(new LoopbackBulkTransport(fabric)));
    }
}
