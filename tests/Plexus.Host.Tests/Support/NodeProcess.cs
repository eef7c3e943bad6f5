using System.Diagnostics;

namespace Plexus.Host.Tests.Support;

/// <summary>A real node (<c>Plexus.Host run</c>) in its own process, stopped gracefully with SIGTERM or killed.</summary>
internal sealed partial class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _output = new();

    private NodeProcess(Process process)
    {
        _process = process;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    /// <summary>Kills the node with SIGKILL, as a crash would, unless it already ended (its id may be reused).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, 9);
        }
    }

    /// <summary>The status server's address, as the start-up summary line (event 1000) gives it.</summary>
    public Uri StatusUrl
    {
        get
        {
            var match = StatusUrlInSummary().Match(Output);
            return match.Success ? new Uri(match.Groups[1].Value) : throw new InvalidOperationException($"The node's summary line names no status address. Its output:\n{Output}");
        }
    }

    /// <summary>Starts a node and waits for its start-up summary line (event 1000).</summary>
    public static async Task<NodeProcess> StartAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostProcess.HostDll);
        start.ArgumentList.Add("run");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var node = new NodeProcess(Process.Start(start)!);
        node._process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        try
        {
            await node._ready.Task.WaitAsync(timeout);
        }
        catch (InvalidOperationException) when (node._process.WaitForExit(5000))
        {
            // The output streams close when the process ends; by now every line has arrived.
            node._process.WaitForExit();
            throw new InvalidOperationException($"The node exited before serving, with exit code {node._process.ExitCode}. Its output:\n{node.Output}");
        }
        catch (TimeoutException)
        {
            await node.DisposeAsync();
            throw new TimeoutException($"The node did not start serving within {timeout}. Its output:\n{node.Output}");
        }

        return node;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _ready.TrySetException(new InvalidOperationException($"The node exited before serving. Its output:\n{Output}"));
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("[1000]", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>Asks the node to stop as Ctrl+C or a service manager would, and waits for its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        // A process that already ended has given its id back: the signal could reach whatever reuses it.
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.SigTerm);
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
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

    [System.Text.RegularExpressions.GeneratedRegex(@"\[1000\] Node .* status (http://127\.0\.0\.1:\d+/)")]
    private static partial System.Text.RegularExpressions.Regex StatusUrlInSummary();
}
