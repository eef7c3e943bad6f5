using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class ResponseStreamExtensionsTests
{
    [Fact]
    public async Task ReadAllAsync_returns_copies_in_order_and_disposes_at_the_end()
    {
        // The scripted stream reuses one buffer, so anything not copied would read as the last message.
        var stream = new ScriptedResponseStream([[1, 2, 3], [], [4, 5], [6]]);

        var messages = new List<byte[]>();
        await foreach (var message in stream.ReadAllAsync())
        {
            messages.Add(message);
        }

        Assert.Equal([[1, 2, 3], [], [4, 5], [6]], messages);
        Assert.True(stream.Disposed);
    }

    [Fact]
    public async Task ReadAllAsync_disposes_when_the_caller_stops_early()
    {
        var stream = new ScriptedResponseStream([[1], [2], [3]]);

        await foreach (var message in stream.ReadAllAsync())
        {
            Assert.Equal([1], message);
            break;
        }

        Assert.True(stream.Disposed);
    }

    [Fact]
    public async Task ReadAllAsync_surfaces_the_failure_and_disposes()
    {
        var stream = new ScriptedResponseStream([[1]], new PlexusException(PlexusErrorCode.Timeout, "deadline passed"));
        var seen = new List<byte[]>();

        var error = await Assert.ThrowsAsync<PlexusException>(async () =>
        {
            await foreach (var message in stream.ReadAllAsync())
            {
                seen.Add(message);
            }
        });

        Assert.Equal(PlexusErrorCode.Timeout, error.Code);
        Assert.Single(seen);
        Assert.True(stream.Disposed);
    }

    [Fact]
    public async Task ReadAllAsync_passes_the_cancellation_token_to_every_read()
    {
        using var cts = new CancellationTokenSource();
        var stream = new ScriptedResponseStream([[1], [2]]);

        await foreach (var _ in stream.ReadAllAsync(cts.Token))
        {
        }

        Assert.Equal(3, stream.TokensSeen.Count);
        Assert.All(stream.TokensSeen, token => Assert.Equal(cts.Token, token));
    }

    [Fact]
    public async Task ReadAllAsync_refuses_a_null_stream()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(async () =>
        {
            await foreach (var _ in ResponseStreamExtensions.ReadAllAsync(null!))
            {
            }
        });
    }
}
