using System.Diagnostics;
using System.Text;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A process running in a host's network namespace, started as <c>ip netns exec &lt;ns&gt; &lt;command&gt;</c>. <c>ip netns
/// exec</c> enters the namespace and then execs the command in place, so the process id is the command's own and
/// <see cref="Kill"/> kills the command itself, not a wrapper that would leave it running.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private LabProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>A name for messages.</summary>
    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Its exit code, once it has exited.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything it wrote, both streams interleaved.</summary>
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

    internal static LabProcess Start(string name, string netns, string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Ip.Binary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in new[] { "netns", "exec", netns, file }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        var process = new LabProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start."));
        process._process.StandardInput.Close();
        process._process.OutputDataReceived += (_, e) => process.OnLine(e.Data);
        process._process.ErrorDataReceived += (_, e) => process.OnLine(e.Data);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits until a line containing <paramref name="text"/> has been written (before or after this call).</summary>
    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        Task seen;
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, waiter));
            seen = waiter.Task;
        }

        var exited = _process.WaitForExitAsync();
        var done = await Task.WhenAny(seen, exited, Task.Delay(timeout));
        if (done == seen)
        {
            return;
        }

        if (done == exited)
        {
            // The output streams close when the process ends; by now every line has arrived.
            _process.WaitForExit();
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before writing '{text}'. Its output:\n{Output}");
        }

        throw new TimeoutException($"{Name} did not write '{text}' within {timeout.TotalSeconds} s. Its output:\n{Output}");
    }

    /// <summary>Kills it with SIGKILL, as a crash or the OOM killer would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource>? seen = null;
        lock (_output)
        {
            _output.AppendLine(line);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (line.Contains(_waiters[i].Text, StringComparison.Ordinal))
                {
                    (seen ??= []).Add(_waiters[i].Seen);
                    _waiters.RemoveAt(i);
                }
            }
        }

        seen?.ForEach(s => s.TrySetResult());
    }
}
