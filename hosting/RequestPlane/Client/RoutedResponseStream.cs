using System.Buffers;
using Plexus.Hosting.Telemetry;

namespace Plexus.Hosting.RequestPlane.Client;

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

    private readonly CallTelemetry _telemetry;

    public RoutedResponseStream(IResponseStream inner, InstanceState instance, bool firstResult, CancellationTokenSource? timeout, CancellationToken callerToken, CallTelemetry telemetry)
    {
        _telemetry = telemetry;
        _inner = inner;
        _instance = instance;
        _prefetched = true;
        _prefetchedResult = firstResult;
        _timeout = timeout;
        _callerToken = callerToken;
        if (firstResult)
        {
            telemetry.Message(inner.Current.Length);
        }
        else
        {
            Release(null);
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
            if (more)
            {
                _telemetry.Message(_inner.Current.Length);
            }
            else
            {
                Release(null);
            }

            return more;
        }
        catch (Exception ex)
        {
            var mapped = Translate(ex, _timeout, _callerToken);
            Release(mapped);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Disposing before the end is the caller cancelling the rest of the stream.
        Release(_released == 0 ? new OperationCanceledException("The caller disposed the response stream before its end.") : null);
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

    private void Release(Exception? error)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _instance.Leave();
            _telemetry.End(error);
        }
    }
}
