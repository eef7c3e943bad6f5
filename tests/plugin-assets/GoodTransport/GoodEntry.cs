using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Test.GoodTransport;

internal sealed class GoodEntry : IPlexusPlugin
{
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddKeyedSingleton<object>("good-entry", "greeting: " + (configuration["Plexus:Transports:Good:Greeting"] ?? "(none)"));
}
