using System.Diagnostics;

namespace Plexus.Host.Tests.Support;

/// <summary>Runs the real host executable, as built next to the repository's host project, and captures its output.</summary>
internal static class HostProcess
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string HostDll
    {
        get
        {
            var configuration = typeof(HostProcess).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepositoryRoot, "host", "bin", configuration, "net10.0", "Plexus.Host.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The host is not built at {path}; build Plugins.sln first.", path);
        }
    }

    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Plexus.Host {string.Join(' ', args)} did not exit within {timeout}; stderr so far: {(stderr.IsCompleted ? stderr.Result : "")}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
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
