using System.Diagnostics.CodeAnalysis;

namespace Plexus.Hosting.Discovery;

/// <summary>
/// Where the <c>file</c> provider keeps things: <c>&lt;root&gt;/&lt;namespace&gt;/&lt;component&gt;/&lt;endpoint&gt;/&lt;instance-hex&gt;.json</c>.
/// Temporary files start with a dot so readers skip them.
/// </summary>
internal static class DiscoveryFileLayout
{
    public const string Extension = ".json";
    public const string TempSuffix = ".tmp";

    // Segments may be "." or ".." or start with a dot, which would climb out of the tree or hide among temporary
    // files; such a segment gets a '~' prefix, a character no segment can contain, so the mapping stays one-to-one.
    private const char EscapePrefix = '~';

    public static string EndpointDirectory(string root, EndpointAddress endpoint) =>
        Path.Combine(root, EncodeSegment(endpoint.Namespace), EncodeSegment(endpoint.Component), EncodeSegment(endpoint.Endpoint));

    public static string InstanceFile(string root, EndpointAddress endpoint, InstanceId id) =>
        Path.Combine(EndpointDirectory(root, endpoint), id + Extension);

    public static string TempFileFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + TempSuffix);

    public static string EncodeSegment(string segment) => segment.StartsWith('.') ? EscapePrefix + segment : segment;

    public static bool TryDecodeSegment(string name, [NotNullWhen(true)] out string? segment)
    {
        segment = name.StartsWith(EscapePrefix) ? name[1..] : name;
        if (segment.Length == 0 || (segment.StartsWith('.') && !name.StartsWith(EscapePrefix)))
        {
            segment = null;
            return false;
        }

        return true;
    }

    /// <summary>Reads the instance id from a file name such as <c>00000000075bcd15.json</c>; false for anything else.</summary>
    public static bool TryParseInstanceFileName(string fileName, out InstanceId id)
    {
        id = default;
        return fileName.Length == 16 + Extension.Length
            && fileName.EndsWith(Extension, StringComparison.Ordinal)
            && InstanceId.TryParse(fileName[..16], out id)
            && string.Equals(id.ToString(), fileName[..16], StringComparison.Ordinal); // one spelling per id, so no duplicates
    }
}
