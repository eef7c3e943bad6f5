namespace Plexus.Transport.Conformance;

/// <summary>Response streams nobody reads, and the client that opened them; disposing lets go of both.</summary>
internal sealed class UnreadStreams(IRequestPlaneClient client, List<IResponseStream> streams) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        streams.Clear();
        await client.DisposeAsync();
    }
}
