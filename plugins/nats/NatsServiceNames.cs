using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Plexus.Transport.Nats;

/// <summary>
/// How Plexus endpoints appear in the NATS services API: one service per component, named
/// <c>&lt;namespace&gt;_&lt;component&gt;</c>, its endpoints named by their last segment. Service and endpoint names
/// there allow only letters, digits, '-' and '_', so a '.' in a segment becomes '-'.
/// </summary>
internal static partial class NatsServiceNames
{
    /// <summary>The service an endpoint belongs to.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The service name.</returns>
    public static string Service(EndpointAddress endpoint) => $"{Name(endpoint.Namespace)}_{Name(endpoint.Component)}";

    /// <summary>The endpoint's name within its service.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The name.</returns>
    public static string Endpoint(EndpointAddress endpoint) => Name(endpoint.Endpoint);

    /// <summary>Whether a version is SemVer 2.0, as the NATS services API requires.</summary>
    /// <param name="version">The version.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsSemVer(string version) => SemVer().IsMatch(version);

    /// <summary>The version services announce: the configured one, else the entry assembly's, else 0.0.0.</summary>
    /// <param name="configured">The configured version, or empty.</param>
    /// <returns>A SemVer version.</returns>
    public static string Version(string configured)
    {
        if (configured.Length > 0)
        {
            return configured;
        }

        var entry = Assembly.GetEntryAssembly();
        var informational = entry?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (informational is not null && IsSemVer(informational))
        {
            return informational;
        }

        return entry?.GetName().Version is { } version ? $"{version.Major}.{version.Minor}.{Math.Max(0, version.Build)}" : "0.0.0";
    }

    private static string Name(string segment)
    {
        if (!segment.Contains('.', StringComparison.Ordinal))
        {
            return segment;
        }

        var name = new StringBuilder(segment.Length);
        foreach (var c in segment)
        {
            name.Append(c == '.' ? '-' : c);
        }

        return name.ToString();
    }

    // semver.org's own expression.
    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex SemVer();
}
