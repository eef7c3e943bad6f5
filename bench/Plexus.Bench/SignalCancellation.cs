using System.Runtime.InteropServices;

namespace Plexus.Bench;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM (<c>kill</c>, <c>timeout</c>, systemd, container runtimes) into the cancellation of
/// the run, and remembers which came so that the bench exits with the conventional 128 + signal number, as the host's
/// commands do. The first signal cancels, and the run ends cleanly (subjects stop, a nats-server it started is stopped);
/// a second one is left to the runtime's default, which ends the process at once, for a run stuck on its way out.
/// </summary>
internal sealed class SignalCancellation : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _received;

    public SignalCancellation()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Fires on the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether a signal has come.</summary>
    public bool Received => Volatile.Read(ref _received) != 0;

    /// <summary>The exit code for the signal that came: 130 for SIGINT, 143 for SIGTERM.</summary>
    public int ExitCode => (PosixSignal)Volatile.Read(ref _received) == PosixSignal.SIGINT ? ExitCodes.Interrupted : ExitCodes.Terminated;

    /// <summary>The name of the signal that came, for messages.</summary>
    public string SignalName => (PosixSignal)Volatile.Read(ref _received) == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM";

    private void OnSignal(PosixSignalContext context)
    {
        // PosixSignal values are negative, so 0 means "none yet".
        if (Interlocked.CompareExchange(ref _received, (int)context.Signal, 0) == 0)
        {
            context.Cancel = true;
            _cancel.Cancel();
        }
    }

    public void Dispose()
    {
        // The token source is left to the collector: a handler already running may still cancel it, and it holds no timer.
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
