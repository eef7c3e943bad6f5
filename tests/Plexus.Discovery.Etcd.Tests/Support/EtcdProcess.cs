using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>
/// A real etcd member on free loopback ports with its data in a temporary directory, started by a test and killed
/// (and its directory deleted) when the test ends, whether it passed or not. A missing binary fails the test with an
/// install hint; it is never skipped. Several members make a cluster (<see cref="EtcdCluster"/>).
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/etcd", "/usr/local/bin/etcd"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _log = new();
    private readonly string _initialCluster;
    private readonly EtcdTlsFiles? _tls;
    private Process? _process;
    private TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal EtcdProcess(string name, string directory, string initialCluster, int clientPort, int peerPort, EtcdTlsFiles? tls)
    {
        Name = name;
        Directory = directory;
        _initialCluster = initialCluster;
        ClientPort = clientPort;
        PeerPort = peerPort;
        _tls = tls;
    }

    /// <summary>The member's name.</summary>
    public string Name { get; }

    /// <summary>The temporary directory (data, and anything a test puts there).</summary>
    public string Directory { get; }

    /// <summary>The loopback port of its client URL.</summary>
    public int ClientPort { get; }

    /// <summary>The loopback port of its peer URL.</summary>
    public int PeerPort { get; }

    /// <summary>The client URL: <c>http://127.0.0.1:port</c>, or <c>https://</c> with TLS.</summary>
    public string ClientUrl => $"{(_tls is null ? "http" : "https")}://127.0.0.1:{ClientPort}";

    /// <summary>The peer URL.</summary>
    public string PeerUrl => $"http://127.0.0.1:{PeerPort}";

    /// <summary>Whether the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the member wrote, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a single-member cluster.</summary>
    /// <param name="tls">Serve clients over TLS and require client certificates, with these files.</param>
    public static async Task<EtcdProcess> StartAsync(EtcdTlsFiles? tls = null)
    {
        var member = Create("solo", tls);
        member.Launch();
        await member.WaitServingAsync();
        return member;
    }

    /// <summary>A member not started yet, on fresh ports.</summary>
    internal static EtcdProcess Create(string name, EtcdTlsFiles? tls = null, string? initialCluster = null, int? clientPort = null, int? peerPort = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"plexus-etcd-{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var peer = peerPort ?? FreePort();
        return new EtcdProcess(name, directory, initialCluster ?? $"{name}=http://127.0.0.1:{peer}", clientPort ?? FreePort(), peer, tls);
    }

    /// <summary>The etcd binary; fails loudly when it is not installed.</summary>
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
            "etcd is not installed, and the etcd discovery tests need a real one. Install it with 'sudo apt-get install -y etcd-server etcd-client' (or run ./test.sh, which installs them).");
    }

    /// <summary>A free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the member at once (SIGKILL), as a crash would; its data stays for a restart.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts the member again on the same ports and data.</summary>
    public async Task RestartAsync()
    {
        Launch();
        await WaitServingAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Starts the process without waiting (cluster members must start together to elect a leader).</summary>
    internal void Launch()
    {
        var scheme = _tls is null ? "http" : "https";
        var start = new ProcessStartInfo(Binary())
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        string[] args =
        [
            "--name", Name,
            "--data-dir", Path.Combine(Directory, "data"),
            "--listen-client-urls", $"{scheme}://127.0.0.1:{ClientPort}",
            "--advertise-client-urls", $"{scheme}://127.0.0.1:{ClientPort}",
            "--listen-peer-urls", PeerUrl,
            "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", _initialCluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", "plexus-test",
            "--logger", "zap",
            "--log-outputs", "stderr",
        ];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (_tls is { } tls)
        {
            foreach (var arg in new[] { "--cert-file", tls.ServerCert, "--key-file", tls.ServerKey, "--trusted-ca-file", tls.Ca, "--client-cert-auth" })
            {
                start.ArgumentList.Add(arg);
            }
        }

        _serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Waits until the member serves clients (it has joined a cluster with a leader).</summary>
    internal async Task WaitServingAsync()
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        var exited = process.WaitForExitAsync();
        var done = await Task.WhenAny(_serving.Task, exited, Task.Delay(StartTimeout));
        if (done == exited)
        {
            throw new InvalidOperationException($"etcd member {Name} exited with code {process.ExitCode} at start. Its output:\n{Log}");
        }

        if (done != _serving.Task)
        {
            throw new TimeoutException($"etcd member {Name} did not serve clients within {StartTimeout.TotalSeconds} s. Its output:\n{Log}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        // 3.4 with zap logs this once it serves clients, after the member has published itself through raft.
        if (line.Contains("serving client traffic", StringComparison.Ordinal))
        {
            _serving.TrySetResult();
        }
    }
}
