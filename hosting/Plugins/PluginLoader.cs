using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// Finds plugin folders, checks each plugin from its metadata before loading it, loads it into its own
/// <see cref="PluginLoadContext"/>, registers its components and runs its entry.
/// </summary>
internal sealed partial class PluginLoader
{
    private readonly PluginLoaderOptions options;
    private readonly ILogger logger;
    private readonly HostAssemblies host = HostAssemblies.Current;

    /// <summary>Creates a loader.</summary>
    /// <param name="options">Which plugins to load.</param>
    /// <param name="logger">Where loaded plugins and optional failures are reported.</param>
    /// <param name="baseDirectory">The folder holding <c>plugins/</c>; the executable's folder by default.</param>
    public PluginLoader(PluginLoaderOptions options, ILogger logger, string? baseDirectory = null)
    {
        this.options = options;
        this.logger = logger;
        BaseDirectory = Path.GetFullPath(baseDirectory ?? AppContext.BaseDirectory);
    }

    public string BaseDirectory { get; }

    /// <summary>The folder of plugin folders beside the executable.</summary>
    public string DefaultPluginsFolder => Path.Combine(BaseDirectory, "plugins");

    /// <summary>
    /// Loads every plugin found. Optional failures are logged and skipped; the catalog lists them.
    /// </summary>
    /// <param name="services">Where components and entry registrations go; the catalog is registered here too.</param>
    /// <param name="configuration">Passed to each plugin's entry.</param>
    /// <returns>Every plugin found.</returns>
    /// <exception cref="PluginLoadException">A required plugin failed or was not found; it lists every such failure.</exception>
    public PluginCatalog Load(IServiceCollection services, IConfiguration configuration)
    {
        var plugins = new List<PluginInfo>();
        var byName = new Dictionary<string, PluginInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (string folder in DiscoverFolders())
        {
            plugins.Add(LoadFolder(folder, services, configuration, byName));
        }

        foreach (string required in options.Required.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!plugins.Any(p => string.Equals(p.Name, required, StringComparison.OrdinalIgnoreCase)))
            {
                var missing = new PluginInfo(required, folder: null) { Required = true };
                missing.MarkFailed(PluginFailures.Line(
                    required,
                    null,
                    "is required (Plexus:Plugins:Required) but no plugin folder provides it",
                    $"put its folder in {DefaultPluginsFolder} or add its location to Plexus:Plugins:Paths"));
                plugins.Add(missing);
            }
        }

        var catalog = new PluginCatalog(plugins, logger);
        services.AddSingleton(catalog);
        Report(plugins);

        string[] requiredFailures = plugins.Where(p => p is { Status: PluginStatus.Failed, Required: true }).Select(p => p.Error!).ToArray();
        if (requiredFailures.Length > 0)
        {
            throw new PluginLoadException(requiredFailures, catalog);
        }

        return catalog;
    }

    /// <summary>Lists plugin folders: those under <c>plugins/</c> beside the executable, then those from <c>Paths</c>, in order.</summary>
    /// <returns>Full paths, each once.</returns>
    public IReadOnlyList<string> DiscoverFolders()
    {
        var folders = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string folder)
        {
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
            if (seen.Add(full))
            {
                folders.Add(full);
            }
        }

        void AddChildren(string parent)
        {
            foreach (string child in Directory.GetDirectories(parent).Order(StringComparer.Ordinal))
            {
                Add(child);
            }
        }

        if (Directory.Exists(DefaultPluginsFolder))
        {
            AddChildren(DefaultPluginsFolder);
        }

        foreach (string configured in options.Paths)
        {
            string path = Path.GetFullPath(configured);
            if (!Directory.Exists(path))
            {
                logger.LogWarning(PluginLogEvents.PathMissing, "Plugin path {PluginPath} (Plexus:Plugins:Paths) does not exist; skipped.", path);
                continue;
            }

            // A folder that holds an assembly or a manifest itself is one plugin; otherwise it holds plugin folders.
            if (IsPluginFolder(path))
            {
                Add(path);
            }
            else
            {
                AddChildren(path);
            }
        }

        return folders;
    }

    private static bool IsPluginFolder(string path) =>
        Directory.EnumerateFiles(path, "*.dll").Any() || Directory.EnumerateFiles(path, "*.deps.json").Any();

    private PluginInfo LoadFolder(string folder, IServiceCollection services, IConfiguration configuration, Dictionary<string, PluginInfo> byName)
    {
        string folderName = Path.GetFileName(folder);
        var info = new PluginInfo(folderName, folder);
        try
        {
            LoadFolder(info, folderName, services, configuration, byName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            info.MarkFailed(PluginFailures.Line(info.Name, folder, $"its folder could not be read ({ex.Message})", "make the folder readable by the host, or remove it"));
        }

        return info;
    }

    private void LoadFolder(PluginInfo info, string folderName, IServiceCollection services, IConfiguration configuration, Dictionary<string, PluginInfo> byName)
    {
        string folder = info.Folder!;
        (PluginAssemblyMetadata? main, string? cause, string? fix) = FindMainAssembly(folder);
        if (main is not null)
        {
            info.Name = string.IsNullOrWhiteSpace(main.PluginName) ? folderName : main.PluginName;
            info.Version = main.DisplayVersion;
            info.AbstractionsVersion = main.AbstractionsVersion;
            info.MainAssemblyPath = main.Path;
        }

        info.Required = options.Required.Contains(info.Name, StringComparer.OrdinalIgnoreCase);
        bool disabled = options.Disabled.Any(d => string.Equals(d, info.Name, StringComparison.OrdinalIgnoreCase) || string.Equals(d, folderName, StringComparison.OrdinalIgnoreCase));
        if (disabled && info.Required)
        {
            Fail(info, "is listed in both Plexus:Plugins:Required and Plexus:Plugins:Disabled", "remove it from one of the two lists");
            return;
        }

        if (disabled)
        {
            info.MarkDisabled();
            return;
        }

        if (main is null)
        {
            Fail(info, cause!, fix!);
            return;
        }

        if (byName.TryGetValue(info.Name, out PluginInfo? first))
        {
            Fail(info, $"another plugin named '{info.Name}' was already found in {first.Folder}", "remove one of the two folders, or disable one by its folder name in Plexus:Plugins:Disabled");
            return;
        }

        byName[info.Name] = info;

        if (CheckAbstractions(main) is { } incompatible)
        {
            Fail(info, incompatible.Cause, incompatible.Fix);
            return;
        }

        PluginLoadContext context;
        try
        {
            context = new PluginLoadContext(main.Path, host);
        }
        catch (InvalidOperationException ex)
        {
            // The resolver refuses a .deps.json that names files the folder lacks.
            Fail(info, $"its dependency manifest could not be resolved ({ex.Message})", PluginFailures.MissingDependencyFix);
            return;
        }

        if (CheckDependencies(context, main) is { } missing)
        {
            Fail(info, missing.Cause, missing.Fix);
            return;
        }

        Register(info, context, services, configuration);
    }

    private void Register(PluginInfo info, PluginLoadContext context, IServiceCollection services, IConfiguration configuration)
    {
        // A plugin either registers completely or not at all: a half-registered plugin would surface much later.
        ServiceDescriptor[] snapshot = services.ToArray();
        void Rollback()
        {
            services.Clear();
            foreach (ServiceDescriptor descriptor in snapshot)
            {
                services.Add(descriptor);
            }
        }

        Assembly assembly;
        Dictionary<Type, IReadOnlyList<Type>> components;
        IReadOnlyList<PluginEndpoint> endpoints;
        (string Cause, string Fix)? badEndpoint = null;
        try
        {
            assembly = context.LoadMainAssembly();

            // Scanned into a scratch collection first, to learn which types came from this plugin.
            var scanned = new ServiceCollection();
            scanned.Scan(scan => scan
                .FromAssemblies(assembly)
                .AddClasses(classes => classes.AssignableToAny(PluginContracts.Types).Where(t => !t.IsGenericTypeDefinition), publicOnly: false)
                .AsSelf()
                .WithSingletonLifetime());

            Type[] implementations = scanned.Select(d => d.ImplementationType).OfType<Type>().Distinct().ToArray();
            components = PluginContracts.All
                .Where(c => c.Contract != typeof(IEndpointHandler))
                .Select(c => (c.Contract, Types: implementations.Where(c.Contract.IsAssignableFrom).ToArray()))
                .Where(c => c.Types.Length > 0)
                .ToDictionary(c => c.Contract, c => (IReadOnlyList<Type>)c.Types);

            (endpoints, string? cause, string? fix) = PluginEndpointScan.Find(info.Name, assembly);
            if (cause is not null)
            {
                badEndpoint = (cause, fix!);
            }

            Type[] handlers = endpoints.Select(e => e.HandlerType).Distinct().ToArray();
            if (handlers.Length > 0)
            {
                // One instance per handler class, created through the container like every other component.
                foreach (Type handler in handlers)
                {
                    scanned.AddSingleton(handler);
                }

                components[typeof(IEndpointHandler)] = handlers;
            }

            foreach (ServiceDescriptor descriptor in scanned)
            {
                services.Add(descriptor);
            }
        }
        catch (Exception ex)
        {
            Rollback();
            info.MarkFailed(PluginFailures.Line(info, ex, context, "loading it threw"));
            return;
        }

        if (badEndpoint is { } bad)
        {
            Rollback();
            Fail(info, bad.Cause, bad.Fix);
            return;
        }

        foreach (Type entryType in EntryTypes(assembly))
        {
            if (entryType.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes) is null)
            {
                Rollback();
                Fail(info, $"its entry {entryType.FullName} has no parameterless constructor", "give the IPlexusPlugin implementation a parameterless constructor");
                return;
            }

            IPlexusPlugin entry;
            try
            {
                entry = (IPlexusPlugin)Activator.CreateInstance(entryType, nonPublic: true)!;
            }
            catch (Exception ex)
            {
                Rollback();
                info.MarkFailed(PluginFailures.Line(info, ex, context, $"the constructor of its entry {entryType.FullName} threw"));
                return;
            }

            try
            {
                entry.ConfigureServices(services, configuration);
            }
            catch (Exception ex)
            {
                Rollback();
                info.MarkFailed(PluginFailures.Line(info, ex, context, $"{entryType.FullName}.ConfigureServices threw"));
                return;
            }
        }

        info.Assembly = assembly;
        info.LoadContext = context;
        info.SetComponents(components);
        info.Endpoints = endpoints;
    }

    private static IEnumerable<Type> EntryTypes(Assembly assembly) =>
        assembly.GetTypes()
            .Where(t => typeof(IPlexusPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static void Fail(PluginInfo info, string cause, string fix) =>
        info.MarkFailed(PluginFailures.Line(info.Name, info.Folder, cause, fix));

    private void Report(IEnumerable<PluginInfo> plugins)
    {
        foreach (PluginInfo plugin in plugins)
        {
            switch (plugin.Status)
            {
                case PluginStatus.Loaded:
                    logger.LogDebug(
                        PluginLogEvents.Loaded,
                        "Plugin {PluginName} {PluginVersion} loaded from {PluginFolder} ({PluginKinds}).",
                        plugin.Name,
                        plugin.Version,
                        plugin.Folder,
                        plugin.Kinds.Count == 0 ? "no components" : string.Join(", ", plugin.Kinds));
                    break;
                case PluginStatus.Disabled:
                    logger.LogInformation(PluginLogEvents.Disabled, "Plugin {PluginName} in {PluginFolder} is disabled (Plexus:Plugins:Disabled).", plugin.Name, plugin.Folder);
                    break;
                case PluginStatus.Failed when plugin.Required:
                    logger.LogError(PluginLogEvents.Failed, "{PluginFailure}", plugin.Error);
                    break;
                default:
                    logger.LogWarning(PluginLogEvents.Failed, "{PluginFailure}", plugin.Error);
                    break;
            }
        }
    }
}
