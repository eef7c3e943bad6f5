using System.Diagnostics;

namespace Plexus.Faults.Tests.Support;

/// <summary>Runs iproute2's <c>ip</c>; a missing binary fails the test with the command that installs it.</summary>
internal static class Ip
{
    private static readonly string[] Candidates = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

    /// <summary>The <c>ip</c> binary.</summary>
    public static string Binary()
    {
        foreach (var candidate in Candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "ip (iproute2) is not installed, and the fault tests build their network of namespaces with it. Install it with 'sudo apt-get install -y iproute2' (or run ./test.sh, which installs it).");
    }

    /// <summary>Runs <c>ip</c> and returns its standard output; a non-zero exit throws with its standard error.</summary>
    public static string Run(params string[] args)
    {
        var (exitCode, stdout, stderr) = TryRun(args);
        if (exitCode != 0)
        {
            var hint = stderr.Contains("Operation not permitted", StringComparison.Ordinal)
                ? " The fault tests need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to make network namespaces."
                : "";
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({exitCode}): {stderr.Trim()}{hint}");
        }

        return stdout;
    }

    /// <summary>Runs <c>ip</c>, whatever it returns: for clean-up, where "already gone" is fine.</summary>
    public static (int ExitCode, string StandardOutput, string StandardError) TryRun(params string[] args)
    {
        var start = new ProcessStartInfo(Binary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("ip did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"ip {string.Join(' ', args)} did not exit within 30 s.");
        }

        return (process.ExitCode, stdout.Result, stderr);
    }
}
