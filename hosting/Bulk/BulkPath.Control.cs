using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Bulk;

/// <summary>The two control endpoints of the bulk path: a client releases what it pulled, or fetches inline what it could not.</summary>
internal sealed partial class BulkPath
{
    private readonly HashSet<Task> _releases = [];

    /// <summary>Whether <paramref name="endpoint"/> is one of the bulk path's control endpoints, served by every node with the path on.</summary>
    public bool IsControl(EndpointAddress endpoint) => IsConfigured && (endpoint == BulkWire.Release || endpoint == BulkWire.Fetch);

    /// <summary>Tells the server in the background that an offered message was pulled; a lost release only means the hold expires.</summary>
    public void ReleaseLater(IRequestPlaneClient client, Instance server, ulong id)
    {
        var release = ReleaseAsync(client, server, id);
        lock (_releases)
        {
            _releases.Add(release);
        }

        _ = release.ContinueWith(
            static (done, state) =>
            {
                var releases = (HashSet<Task>)state!;
                lock (releases)
                {
                    releases.Remove(done);
                }
            },
            _releases,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Waits, at most <paramref name="limit"/>, for the releases still on their way, so that a process that exits right
    /// after its last call (a command line) does not leave its servers holding buffers until the holds expire.
    /// </summary>
    public async Task ReleasesSentAsync(TimeSpan limit)
    {
        Task[] pending;
        lock (_releases)
        {
            pending = [.. _releases];
        }

        if (pending.Length > 0)
        {
            await Task.WhenAll(pending).WaitAsync(limit, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Waits until every offered response message was released or fetched, or <paramref name="cancellationToken"/>
    /// fires: a node that stops lets its clients pull what it offered before its memory goes with it (a pull from a
    /// process that is gone fails, and UCX 1.13 can take the puller's process with it).
    /// </summary>
    public async Task HoldsReleasedAsync(CancellationToken cancellationToken)
    {
        if (!_holds.IsValueCreated)
        {
            return;
        }

        try
        {
            while (Holds.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The grace period is over; what is left expires with the process.
        }
    }

    /// <summary>Serves a control request: lets a hold go, or sends its bytes inline and then lets it go.</summary>
    public async ValueTask ServeControlAsync(IncomingRequest request, IResponseChannel responses)
    {
        PlexusException? error = null;
        try
        {
            var hold = Holds.Take(BulkWire.ReadHoldId(request.Payload));
            if (request.Endpoint == BulkWire.Fetch)
            {
                if (hold is null)
                {
                    throw new PlexusException(PlexusErrorCode.Unavailable, $"The offered response message was let go before it was fetched (held for Plexus:Bulk:HoldTimeout, {_options.HoldTimeout}); the client was too slow or asked twice.");
                }

                try
                {
                    Metrics.Offer("fetched");
                    await SendInlineAsync(hold, responses, request.Aborted).ConfigureAwait(false);
                }
                finally
                {
                    hold.Release();
                }
            }
            else if (hold is not null)
            {
                Metrics.Offer("released");
                hold.Release();
            }
        }
        catch (PlexusException ex)
        {
            error = ex;
        }
        catch (Exception ex)
        {
            error = new PlexusException(PlexusErrorCode.Unavailable, $"Serving {request.Endpoint} failed: {ex.Message}");
        }

        try
        {
            await responses.CompleteAsync(error).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The contract says CompleteAsync does not throw; nothing else is left to release here.
        }
    }

    private async Task ReleaseAsync(IRequestPlaneClient client, Instance server, ulong id)
    {
        try
        {
            var request = new OutgoingRequest(BulkWire.Release, server.Id, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(BulkWire.HoldId(id)), Instance.EmptyMetadata, null);
            using var timeout = new CancellationTokenSource(_options.HoldTimeout);
            await using var stream = await client.SendAsync(server.Address, request, timeout.Token).ConfigureAwait(false);
            while (await stream.MoveNextAsync(timeout.Token).ConfigureAwait(false))
            {
            }
        }
        catch (Exception ex)
        {
            LogReleaseFailed(ex, server.Address);
        }
    }

    private async ValueTask SendInlineAsync(BulkHold hold, IResponseChannel responses, CancellationToken cancellationToken)
    {
        var length = (int)hold.Length;
        if (hold.Buffer is { } local)
        {
            responses.Write(local.Memory.Span[..length]);
        }
        else
        {
            // A handler's own region: this node reads it the way a peer would, then sends the copy.
            var copy = await Pool!.RentAsync(length, cancellationToken).ConfigureAwait(false);
            try
            {
                await Transport!.ReadAsync(hold.Descriptor with { Length = length }, copy.Memory[..length], cancellationToken).ConfigureAwait(false);
                responses.Write(copy.Memory.Span[..length]);
            }
            finally
            {
                Pool.Return(copy);
            }
        }

        responses.EndMessage();
        Metrics.Inline(length, "failed");
        await responses.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1503, Level = LogLevel.Debug, Message = "Telling the node at {Peer} that an offered response message was pulled failed; it lets the message go when its hold expires.")]
    private partial void LogReleaseFailed(Exception error, Uri peer);
}
