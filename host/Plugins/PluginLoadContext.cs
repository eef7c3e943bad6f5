using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace Plexus.Host.Plugins;

/// <summary>
/// The load context of one plugin folder. Resolution rules, in order:
/// <list type="number">
/// <item>Shared contracts (<c>Plexus.Abstractions</c> and every <c>Microsoft.Extensions.*</c>) come from the default
/// context whenever the host has them, even if the plugin carries its own copy: a plugin's <c>ITransportFactory</c>
/// or <c>IServiceCollection</c> must be the host's type.</item>
/// <item>Everything else comes from the plugin's folder when the plugin carries it (its <c>.deps.json</c>, then a
/// <c>&lt;name&gt;.dll</c> beside the main assembly), so two plugins may use two versions of one library. This also
/// holds for libraries the host happens to carry or have loaded (Scrutor, say): those never cross the contract
/// boundary, and letting them win would make a plugin's library versions depend on the host's.</item>
/// <item>What the plugin does not carry falls back to the default context: the framework, and host libraries a
/// plugin chose not to ship.</item>
/// </list>
/// Native libraries: the <c>.deps.json</c> first, then <c>runtimes/&lt;rid&gt;/native/</c> for the current RID and its
/// fallbacks and the plugin folder, then the system search.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private const string AbstractionsName = "Plexus.Abstractions";

    private readonly AssemblyDependencyResolver resolver;
    private readonly HostAssemblies host;
    private readonly ConcurrentQueue<string> unresolvedNativeLibraries = new();

    public PluginLoadContext(string pluginName, string mainAssemblyPath, HostAssemblies host)
        : base($"Plexus plugin '{pluginName}'", isCollectible: false)
    {
        MainAssemblyPath = mainAssemblyPath;
        Folder = Path.GetDirectoryName(mainAssemblyPath) ?? ".";
        this.host = host;
        resolver = new AssemblyDependencyResolver(mainAssemblyPath);
    }

    public string MainAssemblyPath { get; }

    public string Folder { get; }

    /// <summary>Native library names this context could not find in the plugin (the system search was left to try).</summary>
    public IReadOnlyCollection<string> UnresolvedNativeLibraries => unresolvedNativeLibraries;

    /// <summary>Whether an assembly always resolves to the host's copy when the host has one.</summary>
    /// <param name="simpleName">The assembly's simple name.</param>
    /// <returns>True for Plexus.Abstractions and Microsoft.Extensions.*.</returns>
    public static bool IsSharedContract(string? simpleName) =>
        simpleName is not null
        && (string.Equals(simpleName, AbstractionsName, StringComparison.OrdinalIgnoreCase)
            || simpleName.StartsWith("Microsoft.Extensions.", StringComparison.OrdinalIgnoreCase));

    /// <summary>Where the plugin itself carries an assembly, without loading it.</summary>
    /// <param name="assemblyName">The assembly.</param>
    /// <returns>The file, or null when the plugin does not carry it.</returns>
    public string? FindPrivateAssembly(AssemblyName assemblyName)
    {
        string? path = resolver.ResolveAssemblyToPath(assemblyName);
        if (path is not null && File.Exists(path))
        {
            return path;
        }

        // Plugins copied without a .deps.json still carry their dependencies beside the main assembly.
        string beside = Path.Combine(Folder, assemblyName.Name + ".dll");
        return File.Exists(beside) ? beside : null;
    }

    /// <summary>Whether a reference resolves to the host's copy (rule 1 and 3) rather than the plugin's.</summary>
    /// <param name="assemblyName">The reference.</param>
    /// <returns>True when the default context supplies it.</returns>
    public bool ResolvesFromHost(AssemblyName assemblyName)
    {
        string? name = assemblyName.Name;
        if (name is null)
        {
            return true;
        }

        if (IsSharedContract(name) && host.Contains(name))
        {
            return true;
        }

        return FindPrivateAssembly(assemblyName) is null;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Null hands the request to the default context, which owns the host's copies and the framework.
        if (IsSharedContract(assemblyName.Name) && host.Contains(assemblyName.Name!))
        {
            return null;
        }

        string? path = FindPrivateAssembly(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = resolver.ResolveUnmanagedDllToPath(unmanagedDllName) ?? NativeLibraryProbe.Find(Folder, unmanagedDllName);
        if (path is not null)
        {
            return LoadUnmanagedDllFromPath(path);
        }

        // Remembered so a later DllNotFoundException can name the library; the system search comes next.
        unresolvedNativeLibraries.Enqueue(unmanagedDllName);
        return IntPtr.Zero;
    }
}
