using System.Net;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// One "host" of a <see cref="NetworkLab"/>: a network namespace with its own loopback and one address on the lab's
/// bridge, through a veth pair whose other end is a port of the bridge.
/// </summary>
public sealed class HostNs
{
    private readonly NetworkLab _lab;

    internal HostNs(NetworkLab lab, int index, string netns, string bridgePort, IPAddress address)
    {
        _lab = lab;
        Index = index;
        Netns = netns;
        BridgePort = bridgePort;
        Address = address;
    }

    /// <summary>Its number in the lab, from 1.</summary>
    public int Index { get; }

    /// <summary>The network namespace's name.</summary>
    public string Netns { get; }

    /// <summary>The bridge's end of its veth pair, in the root namespace.</summary>
    public string BridgePort { get; }

    /// <summary>Its address on the bridge.</summary>
    public IPAddress Address { get; }

    /// <summary>Whether its link is up.</summary>
    public bool IsLinkUp { get; private set; } = true;

    /// <summary>
    /// Cuts the host off: the bridge's end of its veth goes down, so whatever it sends is lost and nothing reaches it,
    /// without a reset or an unreachable answer to anyone, as when a cable is pulled or a switch port dies. Inside the
    /// host, its own address and loopback still work, so its processes keep running and talking to themselves.
    /// </summary>
    public void LinkDown()
    {
        Ip.Run("link", "set", BridgePort, "down");
        IsLinkUp = false;
    }

    /// <summary>Restores the link cut by <see cref="LinkDown"/>.</summary>
    public void LinkUp()
    {
        Ip.Run("link", "set", BridgePort, "up");
        IsLinkUp = true;
    }

    /// <summary>Starts <paramref name="file"/> inside the host; the lab kills it when it is disposed, if nothing did before.</summary>
    public LabProcess Exec(string name, string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var process = LabProcess.Start($"{name} on {Netns}", Netns, file, args, workingDirectory);
        _lab.Track(process);
        return process;
    }

    public override string ToString() => $"{Netns} ({Address})";
}
