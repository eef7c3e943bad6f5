using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// What the default load context can supply: the host's trusted platform assemblies (the framework plus everything
/// in the host's <c>.deps.json</c>, such as Plexus.Abstractions and the Microsoft.Extensions.* libraries) and
/// whatever has already been loaded into it. Answers without loading anything.
/// </summary>
internal sealed class HostAssemblies
{
    private readonly Dictionary<string, string> trusted;
    private readonly ConcurrentDictionary<string, Version?> versions = new(StringComparer.OrdinalIgnoreCase);

    private HostAssemblies()
    {
        trusted = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty;
        foreach (string path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            trusted.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }
    }

    public static HostAssemblies Current { get; } = new();

    /// <summary>Whether the default context can supply an assembly of this simple name.</summary>
    /// <param name="simpleName">The assembly's simple name.</param>
    /// <returns>True when it is trusted or already loaded there.</returns>
    public bool Contains(string simpleName) => trusted.ContainsKey(simpleName) || FindLoaded(simpleName) is not null;

    /// <summary>The shared contracts the default context supplies: Plexus.Abstractions and Microsoft.Extensions.*.</summary>
    /// <returns>Their simple names.</returns>
    public IEnumerable<string> SharedContractNames()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string name in trusted.Keys)
        {
            if (PluginLoadContext.IsSharedContract(name))
            {
                names.Add(name);
            }
        }

        foreach (Assembly assembly in AssemblyLoadContext.Default.Assemblies)
        {
            if (assembly.GetName().Name is { } name && PluginLoadContext.IsSharedContract(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>The version the default context would supply, read from metadata; null when it has none.</summary>
    /// <param name="simpleName">The assembly's simple name.</param>
    /// <returns>The version, or null.</returns>
    public Version? VersionOf(string simpleName) => versions.GetOrAdd(simpleName, ReadVersion);

    private Version? ReadVersion(string simpleName)
    {
        if (FindLoaded(simpleName) is { } loaded)
        {
            return loaded.GetName().Version;
        }

        if (!trusted.TryGetValue(simpleName, out string? path))
        {
            return null;
        }

        try
        {
            return AssemblyName.GetAssemblyName(path).Version;
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Assembly? FindLoaded(string simpleName)
    {
        foreach (Assembly assembly in AssemblyLoadContext.Default.Assemblies)
        {
            if (string.Equals(assembly.GetName().Name, simpleName, StringComparison.OrdinalIgnoreCase))
            {
                return assembly;
            }
        }

        return null;
    }
}
