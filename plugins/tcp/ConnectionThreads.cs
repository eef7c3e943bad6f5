using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The threads of low-latency connections (<see cref="TcpTransportOptions.LowLatency"/>): each such connection lives on
/// one thread of its own, from its handshake to its close, counted against
/// <see cref="TcpTransportOptions.LowLatencyMaxConnections"/> over the whole process. A connection's code may block only
/// on such a thread (see <see cref="PollingNetworkStream"/>): <see cref="IsCurrent"/> says whether it runs on one.
/// </summary>
internal static class ConnectionThreads
{
    private static int s_running;

    [ThreadStatic]
    private static bool t_isConnectionThread;

    [ThreadStatic]
    private static Action? t_then;

    /// <summary>Connection threads running in this process.</summary>
    public static int Running => Volatile.Read(ref s_running);

    /// <summary>Whether the caller runs on a connection thread, where the connection's reads may wait in the kernel.</summary>
    public static bool IsCurrent => t_isConnectionThread;

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread, unless <paramref name="max"/> connection threads already run. Once
    /// it returns, the thread runs what <see cref="ThenOnThisThread"/> gave it (the connection's reader), then ends.
    /// Nothing escapes the thread: <paramref name="body"/> reports its own failures, and what it lets through is logged
    /// and dropped with the connection it belonged to.
    /// </summary>
    /// <returns><see langword="false"/> when the process has its share of connection threads: the caller goes on without one.</returns>
    public static bool TryStart(string name, Action body, int max, ILogger logger)
    {
        var running = Volatile.Read(ref s_running);
        while (true)
        {
            if (running >= max)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref s_running, running + 1, running);
            if (seen == running)
            {
                break;
            }

            running = seen;
        }

        try
        {
            var thread = new Thread(static state => Run(((Action, ILogger))state!)) { IsBackground = true, Name = name };
            thread.UnsafeStart((body, logger));
            return true;
        }
        catch (Exception exception) when (exception is OutOfMemoryException or ThreadStartException)
        {
            // No thread to be had (the system's limit): the connection goes on without one.
            Interlocked.Decrement(ref s_running);
            return false;
        }
    }

    /// <summary>Gives the current connection thread what to run once its body has returned; called at most once per thread.</summary>
    public static void ThenOnThisThread(Action then)
    {
        if (!t_isConnectionThread)
        {
            throw new InvalidOperationException("Only a connection thread can continue with its connection's reader.");
        }

        t_then = then;
    }

    private static void Run((Action Body, ILogger Logger) work)
    {
        t_isConnectionThread = true;
        try
        {
            work.Body();
        }
        catch (Exception exception)
        {
            // The handshake reports what it expects; anything else is a bug, and ends this connection, not the process.
            TcpLog.ConnectionThreadFailed(work.Logger, exception);
        }
        finally
        {
            // The connection's reader, once the handshake has handed over: it catches everything itself.
            var then = t_then;
            t_then = null;
            try
            {
                then?.Invoke();
            }
            catch (Exception exception)
            {
                // The reader catches what it meets itself (see DedicatedSocketReader): this would be a bug.
                TcpLog.ConnectionThreadFailed(work.Logger, exception);
            }

            t_isConnectionThread = false;
            Interlocked.Decrement(ref s_running);
        }
    }
}
