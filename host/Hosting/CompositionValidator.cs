using Microsoft.Extensions.Hosting;
using Plexus.Host.Composition;

namespace Plexus.Host.Hosting;

/// <summary>Resolves every configured name at start, before anything serves or calls.</summary>
internal sealed class CompositionValidator(PlexusComposition composition) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        composition.Validate();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
