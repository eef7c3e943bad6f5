using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// Every plugin the host found, and the way to create their components. A component's constructor runs only when
/// it is created, so creation goes through <see cref="Activate{T}"/>, which turns a failing constructor into a
/// failed plugin instead of a failed host (unless the plugin is required).
/// </summary>
internal sealed class PluginCatalog
{
    private readonly ILogger logger;
    private readonly Lock gate = new();

    public PluginCatalog(IReadOnlyList<PluginInfo> plugins, ILogger logger)
    {
        Plugins = plugins;
        this.logger = logger;
    }

    /// <summary>Every plugin found, in discovery order.</summary>
    public IReadOnlyList<PluginInfo> Plugins { get; }

    /// <summary>The failure lines of every failed plugin so far.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (gate)
            {
                return Plugins.Where(p => p.Status == PluginStatus.Failed).Select(p => p.Error!).ToArray();
            }
        }
    }

    /// <summary>Finds a plugin by name.</summary>
    /// <param name="name">The plugin's name.</param>
    /// <returns>The first plugin of that name, or null.</returns>
    public PluginInfo? Find(string name) =>
        Plugins.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Creates (or returns, as they are singletons) the components of contract <typeparamref name="T"/> of every loaded
    /// plugin. A plugin whose component cannot be created becomes <see cref="PluginStatus.Failed"/> and contributes
    /// none of its components.
    /// </summary>
    /// <typeparam name="T">A contract, such as <see cref="ITransportFactory"/>.</typeparam>
    /// <param name="services">The built container the components were registered in.</param>
    /// <returns>The components, in plugin order.</returns>
    /// <exception cref="PluginLoadException">A required plugin failed; it lists every such failure of this call.</exception>
    public IReadOnlyList<T> Activate<T>(IServiceProvider services)
        where T : class
    {
        var failures = new List<string>();
        List<object> created = ActivateCore(typeof(T), services, failures);
        if (failures.Count > 0)
        {
            throw new PluginLoadException(failures, this);
        }

        return created.Cast<T>().ToArray();
    }

    /// <summary>
    /// Creates the components of every contract, so that every plugin's constructors have run and
    /// <see cref="PluginInfo.Status"/> is final (what a listing of plugins should show).
    /// </summary>
    /// <param name="services">The built container.</param>
    /// <exception cref="PluginLoadException">A required plugin failed; it lists every such failure.</exception>
    public void ActivateAll(IServiceProvider services)
    {
        var failures = new List<string>();
        foreach ((Type contract, _) in PluginContracts.All)
        {
            ActivateCore(contract, services, failures);
        }

        if (failures.Count > 0)
        {
            throw new PluginLoadException(failures, this);
        }
    }

    /// <summary>
    /// Writes the catalog as a JSON array: one object per plugin with <c>name</c>, <c>version</c>, <c>kinds</c>,
    /// <c>abstractionsVersion</c>, <c>status</c> (<c>loaded</c>, <c>failed</c>, <c>disabled</c>), <c>error</c>,
    /// <c>required</c>, <c>folder</c>, <c>components</c> (type names by kind) and <c>endpoints</c> (the endpoints its
    /// marked handlers serve, as declared).
    /// </summary>
    /// <param name="writer">The writer.</param>
    public void WriteJson(Utf8JsonWriter writer)
    {
        lock (gate)
        {
            writer.WriteStartArray();
            foreach (PluginInfo plugin in Plugins)
            {
                writer.WriteStartObject();
                writer.WriteString("name", plugin.Name);
                writer.WriteString("version", plugin.Version);
                writer.WriteStartArray("kinds");
                foreach (string kind in plugin.Kinds)
                {
                    writer.WriteStringValue(kind);
                }

                writer.WriteEndArray();
                writer.WriteString("abstractionsVersion", plugin.AbstractionsVersion is null ? null : PluginFailures.FormatVersion(plugin.AbstractionsVersion));
                writer.WriteString("status", plugin.Status.ToString().ToLowerInvariant());
                writer.WriteString("error", plugin.Error);
                writer.WriteBoolean("required", plugin.Required);
                writer.WriteString("folder", plugin.Folder);
                writer.WriteStartObject("components");
                foreach ((Type contract, string kind) in PluginContracts.All)
                {
                    if (plugin.Components.TryGetValue(contract, out IReadOnlyList<Type>? types))
                    {
                        writer.WriteStartArray(kind);
                        foreach (Type type in types)
                        {
                            writer.WriteStringValue(type.FullName);
                        }

                        writer.WriteEndArray();
                    }
                }

                writer.WriteEndObject();
                writer.WriteStartArray("endpoints");
                foreach (PluginEndpoint endpoint in plugin.Endpoints)
                {
                    writer.WriteStringValue(endpoint.Endpoint.ToString());
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }
    }

    /// <summary>
    /// Creates the handlers of <paramref name="endpoints"/>, each handler class once. A plugin whose handler cannot be
    /// created becomes <see cref="PluginStatus.Failed"/>, as with <see cref="Activate{T}"/>, and none of its endpoints
    /// get a handler; nor do endpoints of plugins that are no longer loaded.
    /// </summary>
    /// <param name="endpoints">Endpoints of plugins in this catalog.</param>
    /// <param name="services">The built container the handlers were registered in.</param>
    /// <returns>The handlers, by handler class.</returns>
    /// <exception cref="PluginLoadException">A required plugin failed; it lists every such failure of this call.</exception>
    public IReadOnlyDictionary<Type, IEndpointHandler> ActivateHandlers(IEnumerable<PluginEndpoint> endpoints, IServiceProvider services)
    {
        var failures = new List<string>();
        var handlers = new Dictionary<Type, IEndpointHandler>();
        lock (gate)
        {
            foreach (IGrouping<string, PluginEndpoint> group in endpoints.GroupBy(e => e.Plugin, StringComparer.OrdinalIgnoreCase))
            {
                if (Find(group.Key) is not { Status: PluginStatus.Loaded } plugin)
                {
                    continue;
                }

                Type[] types = group.Select(e => e.HandlerType).Distinct().ToArray();
                if (TryCreate(plugin, types, services, failures) is { } created)
                {
                    for (var i = 0; i < types.Length; i++)
                    {
                        handlers[types[i]] = (IEndpointHandler)created[i];
                    }
                }
            }
        }

        if (failures.Count > 0)
        {
            throw new PluginLoadException(failures, this);
        }

        return handlers;
    }

    private List<object> ActivateCore(Type contract, IServiceProvider services, List<string> requiredFailures)
    {
        var result = new List<object>();
        lock (gate)
        {
            foreach (PluginInfo plugin in Plugins)
            {
                if (plugin.Status != PluginStatus.Loaded)
                {
                    continue;
                }

                Type[] types = plugin.Components.Values.SelectMany(t => t).Distinct().Where(contract.IsAssignableFrom).ToArray();
                if (TryCreate(plugin, types, services, requiredFailures) is { } created)
                {
                    result.AddRange(created);
                }
            }
        }

        return result;
    }

    /// <summary>Creates <paramref name="types"/> of one plugin, in order, or marks the plugin failed and returns null.</summary>
    private List<object>? TryCreate(PluginInfo plugin, Type[] types, IServiceProvider services, List<string> requiredFailures)
    {
        var created = new List<object>(types.Length);
        foreach (Type type in types)
        {
            try
            {
                created.Add(services.GetRequiredService(type));
            }
            catch (Exception ex)
            {
                string failure = PluginFailures.Line(plugin, ex, plugin.LoadContext, $"the constructor of {type.FullName} threw");
                plugin.MarkFailed(failure);
                if (plugin.Required)
                {
                    logger.LogError(PluginLogEvents.ActivationFailed, "{PluginFailure}", failure);
                    requiredFailures.Add(failure);
                }
                else
                {
                    logger.LogWarning(PluginLogEvents.ActivationFailed, "{PluginFailure}", failure);
                }

                return null;
            }
        }

        return created;
    }
}
