namespace Plexus.Transport.Nats;

/// <summary>
/// What the NATS services API reports of one endpoint: requests served over NATS (Plexus and plain callers alike),
/// those that ended with an error, the last error, and the time spent from head to end. Safe for concurrent use.
/// </summary>
internal sealed class NatsEndpointStats
{
    private long _requests;
    private long _errors;
    private long _nanoseconds;
    private string _lastError = string.Empty;

    /// <summary>Requests served.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests that ended with an error.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>The last error's message, or empty.</summary>
    public string LastError => Volatile.Read(ref _lastError);

    /// <summary>Time spent on every request, in nanoseconds.</summary>
    public long ProcessingNanoseconds => Interlocked.Read(ref _nanoseconds);

    /// <summary>The average time per request, in nanoseconds.</summary>
    public long AverageNanoseconds => Requests is > 0 and var n ? ProcessingNanoseconds / n : 0;

    /// <summary>Counts one request.</summary>
    /// <param name="elapsed">From its head to its end.</param>
    /// <param name="failure">The error it ended with, or <see langword="null"/>.</param>
    public void Record(TimeSpan elapsed, PlexusException? failure)
    {
        Interlocked.Add(ref _nanoseconds, (long)(elapsed.TotalMilliseconds * 1_000_000));
        if (failure is not null)
        {
            Interlocked.Increment(ref _errors);
            Volatile.Write(ref _lastError, $"{failure.Code}: {failure.Message}");
        }

        Interlocked.Increment(ref _requests);
    }
}
