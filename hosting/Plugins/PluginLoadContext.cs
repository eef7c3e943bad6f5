using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using McMaster.NETCore.Plugins;
using PackageLoader = McMaster.NETCore.Plugins.PluginLoader;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// The load context of one plugin folder: a McMaster.NETCore.Plugins loader (which reads the plugin's
/// <c>.deps.json</c>, resolves its managed and native assets and gives it its own <see cref="AssemblyLoadContext"/>)
/// set up with Plexus's resolution rules, in order:
/// <list type="number">
/// <item>Shared contracts (<c>Plexus.Abstractions</c> and every <c>Microsoft.Extensions.*</c> the host carries) come
/// from the default context, even if the plugin carries its own copy: a plugin's <c>ITransportFactory</c> or
/// <c>IServiceCollection</c> must be the host's type.</item>
/// <item>Everything else comes from the plugin's folder when the plugin carries it, so two plugins may use two
/// versions of one library, including libraries the host happens to carry (Scrutor, say).</item>
/// <item>What the plugin does not carry falls back to the default context: the framework, and host libraries a
/// plugin chose not to ship.</item>
/// </list>
/// Native libraries: the <c>.deps.json</c> and the plugin folder first (the package), then
/// <c>runtimes/&lt;rid&gt;/native/</c> for the current RID's fallbacks (Plexus), then the system search; a name nothing
/// found is remembered so that the failure line can name it.
/// </summary>
internal sealed class PluginLoadContext
{
    private const string AbstractionsName = "Plexus.Abstractions";

    private readonly AssemblyDependencyResolver resolver;
    private readonly HostAssemblies host;
    private readonly PackageLoader loader;
    private readonly ConcurrentQueue<string> unresolvedNativeLibraries = new();

    public PluginLoadContext(string mainAssemblyPath, HostAssemblies host)
    {
        MainAssemblyPath = mainAssemblyPath;
        Folder = Path.GetDirectoryName(mainAssemblyPath) ?? ".";
        this.host = host;

        // Read before the loader exists, so a manifest naming missing files is refused before anything loads.
        resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        var config = new PluginConfig(mainAssemblyPath) { PreferSharedTypes = false, IsUnloadable = false };
        foreach (string shared in host.SharedContractNames())
        {
            config.SharedAssemblies.Add(new AssemblyName(shared));
        }

        loader = new PackageLoader(config);
        loader.LoadContext.ResolvingUnmanagedDll += ResolveNative;
    }

    public string MainAssemblyPath { get; }

    public string Folder { get; }

    /// <summary>The assembly load context the plugin's assemblies live in.</summary>
    public AssemblyLoadContext Context => loader.LoadContext;

    /// <summary>Native library names nothing could find for this plugin, neither the plugin nor the system.</summary>
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

    /// <summary>Loads the plugin's main assembly into its context.</summary>
    /// <returns>The assembly.</returns>
    public Assembly LoadMainAssembly() => loader.LoadDefaultAssembly();

    // Called after the package's own lookup and the system search both failed.
    private IntPtr ResolveNative(Assembly requester, string unmanagedDllName)
    {
        try
        {
            if (NativeLibraryProbe.Find(Folder, unmanagedDllName) is { } path)
            {
                return System.Runtime.InteropServices.NativeLibrary.Load(path);
            }
        }
        catch (DllNotFoundException)
        {
            // A file of that name that would not load (wrong architecture, missing dependency) counts as not found.
        }

        unresolvedNativeLibraries.Enqueue(unmanagedDllName);
        return IntPtr.Zero;
    }
}
