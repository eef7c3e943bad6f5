using System.Diagnostics.CodeAnalysis;

namespace Plexus.Hosting.Cluster;

/// <summary>A <c>host:port</c> of the cluster's join listener.</summary>
internal static class ClusterAddress
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out string? host, out int port, out string problem)
    {
        host = null;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "it is empty; write host:port, such as 10.0.0.5:7300.";
            return false;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out port) || port is < 0 or > 65535)
        {
            problem = "it is not host:port; write it as 10.0.0.5:7300 or [::1]:7300.";
            return false;
        }

        host = text[..colon].Trim('[', ']');
        problem = string.Empty;
        return true;
    }
}
