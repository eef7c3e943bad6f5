using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A small network of "hosts" on one machine: a Linux bridge in the root namespace with an address of its own (the
/// gateway, through which the test process reaches the hosts), and one network namespace per host on a veth pair.
/// Each lab has a fresh tag (<c>pxf</c> and six hex digits, which keeps interface names within Linux's 15 characters) and a
/// /24 of 10.x nobody else uses, so labs never meet. Disposing kills every process started in it and deletes its
/// namespaces, links and temporary files; resources of an earlier run that died without disposing (recognised by the
/// <c>pxf</c> prefix and a marker file naming a process that no longer runs) are removed when a lab is created.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private const string Prefix = "pxf";
    private static readonly string Markers = Path.Combine(Path.GetTempPath(), "plexus-faults");

    private readonly List<HostNs> _hosts = [];
    private readonly List<LabProcess> _processes = [];
    private readonly string _subnet;
    private bool _disposed;

    private NetworkLab(string tag, string subnet)
    {
        Tag = tag;
        _subnet = subnet;
        Gateway = IPAddress.Parse($"{subnet}.1");
        Directory = Path.Combine(Markers, tag + ".d");
    }

    /// <summary>The lab's tag, the prefix of every name it makes.</summary>
    public string Tag { get; }

    /// <summary>The bridge's name.</summary>
    public string Bridge => Tag + "br";

    /// <summary>The bridge's own address: the test process's address on the lab's network.</summary>
    public IPAddress Gateway { get; }

    /// <summary>A temporary directory for the lab's files (etcd data), deleted with the lab.</summary>
    public string Directory { get; }

    public IReadOnlyList<HostNs> Hosts => _hosts;

    /// <summary>Makes the bridge and <paramref name="hosts"/> hosts, 10.x.y.11, .12, ….</summary>
    public static NetworkLab Create(int hosts)
    {
        Ip.Binary();
        RemoveLeftovers();
        var tag = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var lab = new NetworkLab(tag, FreeSubnet());

        // The marker goes first: whatever exists of this lab from now on is recognisable as ours if the process dies.
        System.IO.Directory.CreateDirectory(lab.Directory);
        File.WriteAllText(Path.Combine(Markers, tag), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            Ip.Run("link", "add", lab.Bridge, "type", "bridge");
            Ip.Run("addr", "add", $"{lab.Gateway}/24", "dev", lab.Bridge);
            Ip.Run("link", "set", lab.Bridge, "up");
            for (var i = 1; i <= hosts; i++)
            {
                lab.AddHost(i);
            }
        }
        catch
        {
            lab.Remove();
            throw;
        }

        return lab;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        List<LabProcess> processes;
        lock (_processes)
        {
            processes = [.. _processes];
        }

        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }

        Remove();
    }

    internal void Track(LabProcess process)
    {
        lock (_processes)
        {
            _processes.Add(process);
        }
    }

    private void AddHost(int index)
    {
        var netns = $"{Tag}-{index}";
        var bridgePort = $"{Tag}{index}b";
        var inside = $"{Tag}{index}h";
        var address = IPAddress.Parse($"{_subnet}.{10 + index}");
        Ip.Run("netns", "add", netns);
        Ip.Run("link", "add", bridgePort, "type", "veth", "peer", "name", inside);
        Ip.Run("link", "set", inside, "netns", netns);
        Ip.Run("link", "set", bridgePort, "master", Bridge);
        Ip.Run("link", "set", bridgePort, "up");
        Ip.Run("-n", netns, "addr", "add", $"{address}/24", "dev", inside);
        Ip.Run("-n", netns, "link", "set", inside, "up");

        // Processes in the host listen on and talk to its loopback too (a node's status page, etcd's own checks).
        Ip.Run("-n", netns, "link", "set", "lo", "up");
        _hosts.Add(new HostNs(this, index, netns, bridgePort, address));
    }

    /// <summary>Deletes everything of this lab that exists.</summary>
    private void Remove() => RemoveTag(Tag);

    private static void RemoveTag(string tag)
    {
        foreach (var netns in Namespaces().Where(n => n.StartsWith(tag, StringComparison.Ordinal)))
        {
            // Deleting a namespace does not end its processes; a process left behind would hold ports and memory.
            foreach (var pid in Ip.TryRun("netns", "pids", netns).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture));
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
                catch (InvalidOperationException)
                {
                }
            }

            // The veth pair goes with the namespace that holds one of its ends.
            Ip.TryRun("netns", "del", netns);
        }

        foreach (var link in Links().Where(l => l.StartsWith(tag, StringComparison.Ordinal)))
        {
            Ip.TryRun("link", "del", link);
        }

        try
        {
            System.IO.Directory.Delete(Path.Combine(Markers, tag + ".d"), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        File.Delete(Path.Combine(Markers, tag));
    }

    /// <summary>Removes labs whose marker is missing or names a process that no longer runs: a test run that died.</summary>
    private static void RemoveLeftovers()
    {
        var tags = Namespaces().Concat(Links())
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.Length >= Prefix.Length + 6)
            .Select(n => n[..(Prefix.Length + 6)])
            .Concat(System.IO.Directory.Exists(Markers) ? System.IO.Directory.EnumerateFileSystemEntries(Markers).Select(p => Path.GetFileName(p)[..Math.Min(Path.GetFileName(p).Length, Prefix.Length + 6)]) : [])
            .Where(t => t.StartsWith(Prefix, StringComparison.Ordinal) && t.Length == Prefix.Length + 6)
            .Distinct();
        foreach (var tag in tags)
        {
            var marker = Path.Combine(Markers, tag);
            var owner = File.Exists(marker) && int.TryParse(File.ReadAllText(marker), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
            if (owner == 0 || !System.IO.Directory.Exists($"/proc/{owner}"))
            {
                RemoveTag(tag);
            }
        }
    }

    private static IEnumerable<string> Namespaces() =>
        Ip.Run("netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2)[0].Trim());

    private static IEnumerable<string> Links() =>
        Ip.Run("-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => parts[1].Trim().Split('@')[0]);

    /// <summary>A 10.x.y.0/24 that no interface or route of the machine uses.</summary>
    private static string FreeSubnet()
    {
        var used = Ip.Run("-4", "-o", "addr", "show") + Ip.Run("-4", "route", "show", "table", "all");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var subnet = $"10.{RandomNumberGenerator.GetInt32(200, 250)}.{RandomNumberGenerator.GetInt32(0, 256)}";
            if (!used.Contains($" {subnet}.", StringComparison.Ordinal))
            {
                return subnet;
            }
        }

        throw new InvalidOperationException("No free 10.x.y.0/24 for the lab's network.");
    }
}
