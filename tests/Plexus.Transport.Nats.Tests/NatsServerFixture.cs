namespace Plexus.Transport.Nats.Tests;

/// <summary>One plain nats-server shared by the tests of a class.</summary>
public sealed class NatsServerFixture : IAsyncLifetime
{
    private NatsServerProcess? _server;

    /// <summary>The running server.</summary>
    public NatsServerProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await NatsServerProcess.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
