using System.Diagnostics;
using System.Text;

namespace Plexus.Host.Tests.Support;

/// <summary>
/// The host executable running a command in its own process, watched while it runs: its output as it arrives, real
/// signals sent to it, its exit code. It starts through <c>env --default-signal</c> so that SIGINT and SIGTERM have their
/// default handling even when the tests themselves run where SIGINT is ignored (a background job of a script), which
/// a child would otherwise inherit.
/// </summary>
internal sealed class RunningHost : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private int _lines;
    private TaskCompletionSource _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningHost(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public static RunningHost Start(params string[] args)
    {
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT,TERM");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(HostProcess.HostDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var host = new RunningHost(Process.Start(start)!);
        host._process.StandardInput.Close();
        host._process.OutputDataReceived += (_, e) => host.OnLine(e.Data, host._stdout, counts: true);
        host._process.ErrorDataReceived += (_, e) => host.OnLine(e.Data, host._stderr, counts: false);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until standard output has at least <paramref name="lines"/> lines.</summary>
    public async Task WaitForLinesAsync(int lines, TimeSpan timeout)
    {
        using var giveUp = new CancellationTokenSource(timeout);
        while (true)
        {
            Task arrived;
            lock (_gate)
            {
                if (_lines >= lines)
                {
                    return;
                }

                arrived = _lineArrived.Task;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The host exited ({_process.ExitCode}) after {_lines} lines. Standard error:\n{StandardError}");
            }

            try
            {
                await arrived.WaitAsync(TimeSpan.FromMilliseconds(500), giveUp.Token);
            }
            catch (TimeoutException)
            {
                // Look at HasExited again.
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Only {_lines} of {lines} lines within {timeout}. Standard error:\n{StandardError}");
            }
        }
    }

    public void Signal(int signal)
    {
        // A process that already ended has given its id back: the signal could reach whatever reuses it.
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, signal);
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">It did not exit in time (it is killed when disposed).</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The host did not exit within {timeout}. Standard error so far:\n{StandardError}");
        }

        // Lets the asynchronous readers deliver the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, StringBuilder into, bool counts)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource? arrived = null;
        lock (_gate)
        {
            into.AppendLine(line);
            if (counts)
            {
                _lines++;
                arrived = _lineArrived;
                _lineArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        arrived?.TrySetResult();
    }
}
