namespace Plexus.Transport.Quic;

/// <summary>
/// Requests a server has admitted but not yet handed to the dispatcher. <see cref="IRequestPlaneServer.StopAcceptingAsync"/>
/// completes only when none is left, so the core's drain counts every request the transport took.
/// </summary>
internal sealed class QuicHandOverCount
{
    private int _pending;
    private TaskCompletionSource? _none;

    /// <summary>A request was admitted; it counts until <see cref="HandedOver"/>.</summary>
    public void Admitted() => Interlocked.Increment(ref _pending);

    /// <summary>An admitted request was handed to the dispatcher, or ended before it was.</summary>
    public void HandedOver()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            Volatile.Read(ref _none)?.TrySetResult();
        }
    }

    /// <summary>Completes once no admitted request is waiting to be handed over.</summary>
    public Task NoneLeftAsync()
    {
        // Published before the count is read, and HandedOver reads it after lowering the count: one sees the other.
        Interlocked.CompareExchange(ref _none, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        var none = Volatile.Read(ref _none)!;
        if (Volatile.Read(ref _pending) == 0)
        {
            none.TrySetResult();
        }

        return none.Task;
    }

    /// <summary>Wakes a wait that no longer matters (the server closed under it).</summary>
    public void Release() => Volatile.Read(ref _none)?.TrySetResult();
}
