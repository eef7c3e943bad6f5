using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Test.ThrowingEntry;

internal sealed class ThrowingEntryPlugin : IPlexusPlugin
{
    public ThrowingEntryPlugin()
    {
        throw new InvalidOperationException("The entry cannot start.");
    }

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
    }
}
