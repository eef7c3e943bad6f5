using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Test.GoodTransport;

internal sealed class GoodTransportFactory : ITransportFactory
{
    public string Name => "good";

    // Seen from inside the plugin, so the tests can check type identity with the host.
    public Assembly HandlerContractAssembly => typeof(IEndpointHandler).Assembly;

    public Assembly ServiceCollectionContractAssembly => typeof(IServiceCollection).Assembly;

    public IRequestPlaneServer CreateServer() => throw new NotSupportedException("The test transport has no server.");

    public IRequestPlaneClient CreateClient() => throw new NotSupportedException("The test transport has no client.");
}
