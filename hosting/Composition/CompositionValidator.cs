using Microsoft.Extensions.Hosting;

namespace Plexus.Hosting.Composition;

/// <summary>
/// Resolves every configured name before any hosted service starts (it is registered first and checks in
/// <see cref="StartingAsync"/>), so that a bad name stops the start with the key that holds it before anything
/// listens, serves or calls.
/// </summary>
internal sealed class CompositionValidator(PlexusComposition composition) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        composition.Validate();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
