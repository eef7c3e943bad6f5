using System.Buffers;

namespace Plexus.Host.RequestPlane.Client;

/// <summary>
/// The response stream a caller gets from the router. Its first message was read while routing (so that a failure
/// before any response could go to another instance); it releases the instance's in-flight slot exactly once, and
/// turns the call's own timeout into <see cref="PlexusErrorCode.Timeout"/>.
/// </summary>
internal sealed class RoutedResponseStream : IResponseStream
{
    private readonly IResponseStream _inner;
    private readonly InstanceState _instance;
    private readonly CancellationTokenSource? _timeout;
    private readonly CancellationToken _callerToken;
    private bool _prefetched;
    private bool _prefetchedResult;
    private int _released;

    public RoutedResponseStream(IResponseStream inner, InstanceState instance, bool firstResult, CancellationTokenSource? timeout, CancellationToken callerToken)
    {
        _inner = inner;
        _instance = instance;
        _prefetched = true;
        _prefetchedResult = firstResult;
        _timeout = timeout;
        _callerToken = callerToken;
        if (!firstResult)
        {
            Release();
        }
    }

    public Instance Instance => _instance.Instance;

    public ReadOnlySequence<byte> Current => _inner.Current;

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        if (_prefetched)
        {
            _prefetched = false;
            return _prefetchedResult;
        }

        try
        {
            var more = await _inner.MoveNextAsync(cancellationToken);
            if (!more)
            {
                Release();
            }

            return more;
        }
        catch (Exception ex)
        {
            Release();
            var mapped = Translate(ex, _timeout, _callerToken);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _inner.DisposeAsync();
        _timeout?.Dispose();
    }

    /// <summary>Maps a cancellation caused by the call's own timeout to the typed timeout error.</summary>
    internal static Exception Translate(Exception ex, CancellationTokenSource? timeout, CancellationToken callerToken)
    {
        if (timeout is not null && timeout.IsCancellationRequested && !callerToken.IsCancellationRequested
            && (ex is OperationCanceledException || ex is PlexusException { Code: PlexusErrorCode.Cancelled }))
        {
            return new PlexusException(PlexusErrorCode.Timeout, "The call's deadline passed before the response stream ended; raise --timeout or Plexus:RequestPlane:DefaultTimeout if the endpoint needs longer.", ex);
        }

        return ex;
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _instance.Leave();
        }
    }
}
