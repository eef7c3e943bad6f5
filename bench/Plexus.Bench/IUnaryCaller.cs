namespace Plexus.Bench;

/// <summary>One caller of the unary scenario; concurrent callers each have their own.</summary>
internal interface IUnaryCaller : IAsyncDisposable
{
    /// <summary>Sends the 64-byte request and reads the whole 64-byte response.</summary>
    /// <exception cref="BenchFailedException">The response was not what the scenario defines.</exception>
    ValueTask CallAsync(CancellationToken cancellationToken);

    /// <summary>Whether a call blocks its thread (raw-tcp-blocking): such callers get a dedicated thread each.</summary>
    bool Blocking => false;
}
