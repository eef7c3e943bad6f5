using System.Runtime.InteropServices;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// Finds a native library a plugin ships but its <c>.deps.json</c> does not list (a hand-copied
/// <c>runtimes/&lt;rid&gt;/native/</c> file, or one dropped into the plugin folder).
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>The current RID and its portable fallbacks, most specific first (linux-x64, linux, unix).</summary>
    public static IReadOnlyList<string> RuntimeIdentifiers { get; } = BuildRidChain();

    /// <summary>The file names a library called <paramref name="name"/> may have on this OS.</summary>
    /// <param name="name">The name given to <c>DllImport</c>/<c>LibraryImport</c>.</param>
    /// <returns>Candidate file names, most likely first.</returns>
    public static IReadOnlyList<string> FileNames(string name)
    {
        string prefix = OperatingSystem.IsWindows() ? string.Empty : "lib";
        string suffix = OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        bool hasSuffix = name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
            || name.Contains(suffix + ".", StringComparison.OrdinalIgnoreCase);
        var names = new List<string>(3);
        if (hasSuffix)
        {
            names.Add(name);
            if (prefix.Length > 0 && !name.StartsWith(prefix, StringComparison.Ordinal))
            {
                names.Add(prefix + name);
            }
        }
        else
        {
            if (prefix.Length > 0 && !name.StartsWith(prefix, StringComparison.Ordinal))
            {
                names.Add(prefix + name + suffix);
            }

            names.Add(name + suffix);
            names.Add(name);
        }

        return names;
    }

    /// <summary>The folders searched in a plugin folder, in order.</summary>
    /// <param name="pluginFolder">The plugin's folder.</param>
    /// <returns><c>runtimes/&lt;rid&gt;/native/</c> for each RID of the chain, then the folder itself.</returns>
    public static IEnumerable<string> SearchFolders(string pluginFolder)
    {
        foreach (string rid in RuntimeIdentifiers)
        {
            yield return Path.Combine(pluginFolder, "runtimes", rid, "native");
        }

        yield return pluginFolder;
    }

    /// <summary>Looks for a native library in a plugin folder.</summary>
    /// <param name="pluginFolder">The plugin's folder.</param>
    /// <param name="name">The name given to <c>DllImport</c>/<c>LibraryImport</c>.</param>
    /// <returns>The file's path, or null when the plugin does not carry it.</returns>
    public static string? Find(string pluginFolder, string name)
    {
        // A rooted name is the plugin's explicit choice; the system loader handles it.
        if (Path.IsPathRooted(name))
        {
            return null;
        }

        IReadOnlyList<string> fileNames = FileNames(name);
        foreach (string folder in SearchFolders(pluginFolder))
        {
            foreach (string fileName in fileNames)
            {
                string candidate = Path.Combine(folder, fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static List<string> BuildRidChain()
    {
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        bool musl = RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase);
        string os =
            OperatingSystem.IsWindows() ? "win"
            : OperatingSystem.IsMacOS() ? "osx"
            : OperatingSystem.IsFreeBSD() ? "freebsd"
            : OperatingSystem.IsLinux() ? (musl ? "linux-musl" : "linux")
            : "unix";

        var chain = new List<string> { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}" };
        if (musl)
        {
            chain.Add($"linux-{arch}");
        }

        chain.Add(os);
        if (musl)
        {
            chain.Add("linux");
        }

        if (!OperatingSystem.IsWindows())
        {
            chain.Add("unix");
        }

        return chain.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
