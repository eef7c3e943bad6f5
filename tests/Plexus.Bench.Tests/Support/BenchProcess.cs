using System.Diagnostics;
using System.Text;
using Plexus.Host.Tests.Support;

namespace Plexus.Bench.Tests.Support;

/// <summary>
/// The real bench executable, as built next to its project with the plugins beside it, in its own process. It starts
/// through <c>env --default-signal</c> so that SIGINT and SIGTERM have their default handling even when the tests
/// themselves run where SIGINT is ignored (a background job of a script), which a child would otherwise inherit.
/// </summary>
internal sealed class BenchProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    private BenchProcess(Process process)
    {
        _process = process;
    }

    public static string RepositoryRoot { get; } = FindRoot();

    public static string BenchDll
    {
        get
        {
            var configuration = typeof(BenchProcess).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepositoryRoot, "bench", "Plexus.Bench", "bin", configuration, "net10.0", "Plexus.Bench.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The bench is not built at {path}; build Plugins.sln first.", path);
        }
    }

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

    /// <summary>Runs the bench to its end and returns what it printed.</summary>
    /// <exception cref="TimeoutException">It did not exit in time; it is killed.</exception>
    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] args)
    {
        await using var bench = Start(args);
        var code = await bench.WaitForExitAsync(timeout);
        return new Result(code, bench.StandardOutput, bench.StandardError);
    }

    public static BenchProcess Start(params string[] args)
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
        start.ArgumentList.Add(BenchDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var bench = new BenchProcess(Process.Start(start)!);
        bench._process.StandardInput.Close();
        bench._process.OutputDataReceived += (_, e) => bench.OnLine(e.Data, bench._stdout);
        bench._process.ErrorDataReceived += (_, e) => bench.OnLine(e.Data, bench._stderr);
        bench._process.BeginOutputReadLine();
        bench._process.BeginErrorReadLine();
        return bench;
    }

    /// <summary>Waits until standard error holds <paramref name="text"/>.</summary>
    public async Task WaitForErrorAsync(string text, TimeSpan timeout)
    {
        var giveUp = Stopwatch.StartNew();
        while (!StandardError.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The bench exited ({_process.ExitCode}) before printing '{text}'. Standard error:\n{StandardError}");
            }

            if (giveUp.Elapsed > timeout)
            {
                throw new TimeoutException($"No '{text}' on standard error within {timeout}. Standard error:\n{StandardError}");
            }

            await Task.Delay(50);
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
            throw new TimeoutException($"The bench did not exit within {timeout}. Standard error so far:\n{StandardError}");
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

    private void OnLine(string? line, StringBuilder into)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            into.AppendLine(line);
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Plugins.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Plugins.sln not found above " + AppContext.BaseDirectory);
    }

    internal sealed record Result(int ExitCode, string StandardOutput, string StandardError);
}
