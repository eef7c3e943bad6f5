namespace Plexus.Faults.Tests.Support;

/// <summary>One etcd member on a lab host, on the standard ports of the host's own address (each host has its own stack).</summary>
public sealed class LabEtcdMember
{
    private static readonly string[] Candidates = ["/usr/bin/etcd", "/usr/local/bin/etcd"];
    private readonly string _initialCluster;
    private readonly string _dataDirectory;
    private LabProcess? _process;

    internal LabEtcdMember(string name, HostNs host, string initialCluster, string dataDirectory)
    {
        Name = name;
        Host = host;
        _initialCluster = initialCluster;
        _dataDirectory = dataDirectory;
    }

    public string Name { get; }

    public HostNs Host { get; }

    public string ClientUrl => $"http://{Host.Address}:2379";

    public string PeerUrl => $"http://{Host.Address}:2380";

    public bool IsRunning => _process is { HasExited: false };

    public string Log => _process?.Output ?? "";

    /// <summary>The etcd binary; fails loudly when it is not installed.</summary>
    public static string Binary() =>
        Candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "etcd is not installed, and the fault tests run a real three-member cluster. Install it with 'sudo apt-get install -y etcd-server etcd-client' (or run ./test.sh, which installs them).");

    /// <summary>Starts the process without waiting: members of a new cluster must start together to elect a leader.</summary>
    internal void Launch()
    {
        string[] args =
        [
            "--name", Name,
            "--data-dir", _dataDirectory,
            "--listen-client-urls", ClientUrl,
            "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", PeerUrl,
            "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", _initialCluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", "plexus-faults",
            "--logger", "zap",
            "--log-outputs", "stderr",
        ];
        _process = Host.Exec($"etcd {Name}", Binary(), args);
    }

    /// <summary>Waits until the member serves clients, which etcd 3.4 logs once it has joined a cluster with a leader.</summary>
    internal Task WaitServingAsync(TimeSpan timeout) =>
        (_process ?? throw new InvalidOperationException("Not started.")).WaitForLineAsync("serving client traffic", timeout);

    /// <summary>Kills the member with SIGKILL, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            await process.KillAsync();
        }
    }
}
