using Microsoft.Extensions.Hosting;

namespace Plexus.Host.Hosting;

/// <summary>The lifetime of a short-lived command's host: it waits for nothing and listens to no signal; the command does.</summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
