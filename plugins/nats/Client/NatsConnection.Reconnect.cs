using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Plexus.Transport.Nats.Client;

/// <summary>A link's life: made live once it is up, failed when it breaks, replaced by reconnecting with backoff.</summary>
internal sealed partial class NatsConnection
{
    private bool Activate(NatsLink link)
    {
        lock (_gate)
        {
            if (_state is NatsConnectionState.Closed)
            {
                return false;
            }

            _link = link;
            _info = link.Info;
            _state = NatsConnectionState.Connected;
        }

        NatsMetrics.ConnectionOpened();

        _pool.ConnectedTo(link.Server);
        _pool.AddDiscovered(link.Info.ConnectUrls);
        _outbox.SetConnected(true);
        link.ReadLoop = Task.Run(() => ReadLoopAsync(link));
        link.WriteLoop = Task.Run(() => WriteLoopAsync(link));
        try
        {
            _pingTimer.Change(_options.PingInterval, _options.PingInterval);
        }
        catch (ObjectDisposedException)
        {
        }

        return true;
    }

    private void LinkFailed(NatsLink link, Exception exception)
    {
        bool reconnect;
        lock (_gate)
        {
            if (link.Dead)
            {
                return;
            }

            link.Dead = true;
            if (!ReferenceEquals(_link, link) || _state is NatsConnectionState.Closed)
            {
                // A link that was already replaced or a connection being closed: nothing to recover.
                reconnect = false;
            }
            else
            {
                _link = null;
                NatsMetrics.ConnectionClosed();
                reconnect = _options.AllowReconnect && _state != NatsConnectionState.Draining;
                _state = reconnect ? NatsConnectionState.Reconnecting : NatsConnectionState.Closed;
                _lastError = exception is OperationCanceledException ? "The connection was cancelled." : exception.Message;
            }
        }

        link.Abort();
        FailWaiters(link, $"The connection to {NatsLink.Display(link.Server)} was lost.");
        var reason = exception is NatsException or IOException ? exception.Message : $"The connection to {NatsLink.Display(link.Server)} failed: {exception.Message}";
        if (!reconnect)
        {
            lock (_gate)
            {
                if (_state == NatsConnectionState.Closed)
                {
                    _outbox.Close();
                }
            }

            return;
        }

        _outbox.SetConnected(false);
        _logger.LogWarning(DisconnectedEvent, "Lost the NATS connection: {Reason} Reconnecting.", reason);
        var disconnected = Disconnected;
        if (disconnected is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Handler(state.Reason), (Handler: disconnected, Reason: reason), preferLocal: false);
        }

        if (_requester.IsValueCreated)
        {
            _requester.Value.FailAll(new NatsException(NatsErrorKind.Connection, reason));
        }

        lock (_gate)
        {
            _reconnecting = Task.Run(() => ReconnectAsync(link));
        }
    }

    private void FailWaiters(NatsLink link, string reason)
    {
        TaskCompletionSource?[] waiters;
        lock (_gate)
        {
            waiters = [.. link.PongWaiters];
            link.PongWaiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter?.TrySetException(new NatsException(NatsErrorKind.Connection, reason));
        }
    }

    private async Task ReconnectAsync(NatsLink dead)
    {
        // The old loops must be gone before a new write loop reads the outbox.
        try
        {
            await Task.WhenAll(dead.ReadLoop, dead.WriteLoop).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        var attempts = 0;
        var token = _closing.Token;
        while (!token.IsCancellationRequested)
        {
            var backoff = attempts == 0
                ? TimeSpan.Zero
                : TimeSpan.FromMilliseconds(Math.Min(
                    _options.MaxReconnectWait.TotalMilliseconds,
                    _options.ReconnectWait.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 16))));
            var delay = backoff + TimeSpan.FromMilliseconds(Jitter(_options.ReconnectJitter));
            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
                var server = _pool.Next();
                var link = await NatsLink.ConnectAsync(server, _options, ActiveSubscriptions(), HandleFrame, token).ConfigureAwait(false);
                if (!Activate(link))
                {
                    link.Dispose();
                    return;
                }

                NatsMetrics.Reconnected();
                _logger.LogInformation(ReconnectedEvent, "Reconnected to the NATS server at {Server}; {Count} subscriptions restored.", NatsLink.Display(server), _subscriptions.Count);
                var reconnected = Reconnected;
                if (reconnected is not null)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static h => h(), reconnected, preferLocal: false);
                }

                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (NatsException exception)
            {
                attempts++;
                lock (_gate)
                {
                    _lastError = exception.Message;
                }

                _logger.LogDebug(ReconnectFailedEvent, "Reconnect attempt {Attempt} failed: {Reason}", attempts, exception.Message);
                if (_options.MaxReconnectAttempts >= 0 && attempts >= _options.MaxReconnectAttempts)
                {
                    _logger.LogWarning(ReconnectFailedEvent, "Gave up reconnecting to NATS after {Attempts} attempts: {Reason}", attempts, exception.Message);
                    lock (_gate)
                    {
                        _state = NatsConnectionState.Closed;
                    }

                    _outbox.Close();
                    return;
                }
            }
        }
    }
}
