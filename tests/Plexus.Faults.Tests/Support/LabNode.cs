using System.Text;
using Plexus.Host.Tests.Support;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A real node (<c>Plexus.Host run</c>) on a lab host, killable and restartable with the same settings; its output is
/// kept across runs, so a test can look for an event of any of them.
/// </summary>
public sealed class LabNode
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string[] _args;
    private readonly StringBuilder _earlier = new();
    private LabProcess? _process;
    private bool _killed;

    internal LabNode(string nodeId, HostNs host, string[] args)
    {
        NodeId = nodeId;
        Host = host;
        _args = args;
    }

    /// <summary>Its <c>Plexus:NodeId</c>, which every instance it registers carries as its <c>node</c> metadata.</summary>
    public string NodeId { get; }

    public HostNs Host { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The current run ended without <see cref="KillAsync"/>: it crashed or stopped on its own.</summary>
    public bool ExitedUnexpectedly => _process is { HasExited: true } && !_killed;

    /// <summary>The current run's exit code, once it has exited.</summary>
    public int? ExitCode => _process?.ExitCode;

    /// <summary>What the current run wrote.</summary>
    public string CurrentOutput => _process?.Output ?? "";

    /// <summary>The process id of the current run.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>How many times it was started.</summary>
    public int Starts { get; private set; }

    /// <summary>What every run of it wrote.</summary>
    public string Output => _earlier + (_process?.Output ?? "");

    /// <summary>Starts it (again) and waits for its start-up summary line (event 1000): it serves and has registered.</summary>
    public async Task StartAsync()
    {
        if (_process is { } previous)
        {
            await previous.KillAsync();
            _earlier.Append(previous.Output);
        }

        Starts++;
        _killed = false;
        _process = Host.Exec($"node {NodeId}", "dotnet", [HostProcess.HostDll, "run", .. _args]);
        await _process.WaitForLineAsync("[1000]", StartTimeout);
    }

    /// <summary>Kills it with SIGKILL: no drain, no goodbye to etcd, its sockets reset by the kernel.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _killed = true;
            await process.KillAsync();
        }
    }
}
