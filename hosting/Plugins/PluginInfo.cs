using System.Reflection;

namespace Plexus.Hosting.Plugins;

/// <summary>One plugin the host found, whatever became of it.</summary>
internal sealed class PluginInfo
{
    private static readonly IReadOnlyDictionary<Type, IReadOnlyList<Type>> NoComponents = new Dictionary<Type, IReadOnlyList<Type>>();

    public PluginInfo(string name, string? folder)
    {
        Name = name;
        Folder = folder;
    }

    /// <summary>The name from <c>[assembly: PlexusPlugin]</c>, or the folder's name when the assembly could not be read.</summary>
    public string Name { get; internal set; }

    /// <summary>The plugin's informational version, or null when its assembly could not be read.</summary>
    public string? Version { get; internal set; }

    /// <summary>The version of Plexus.Abstractions the plugin was built against, or null when unknown.</summary>
    public Version? AbstractionsVersion { get; internal set; }

    /// <summary>What the plugin provides: <c>transport</c>, <c>codec</c>, <c>router</c>, <c>discovery</c>, <c>bulk</c>,
    /// <c>service</c> (endpoints of classes marked <see cref="PlexusEndpointAttribute"/>).</summary>
    public IReadOnlyList<string> Kinds { get; private set; } = [];

    /// <summary>The plugin's folder; null for a required plugin no folder provides.</summary>
    public string? Folder { get; }

    public PluginStatus Status { get; private set; } = PluginStatus.Loaded;

    /// <summary>Why the plugin failed, as one line naming the plugin, the cause and the fix; null unless failed.</summary>
    public string? Error { get; private set; }

    /// <summary>Whether configuration lists the plugin in <c>Plexus:Plugins:Required</c>.</summary>
    public bool Required { get; internal set; }

    /// <summary>The plugin's component types, by the contract they implement.</summary>
    public IReadOnlyDictionary<Type, IReadOnlyList<Type>> Components { get; private set; } = NoComponents;

    /// <summary>The endpoints the plugin's marked handlers serve, as declared; empty unless loaded.</summary>
    public IReadOnlyList<PluginEndpoint> Endpoints { get; internal set; } = [];

    /// <summary>The plugin's main assembly file, once found.</summary>
    public string? MainAssemblyPath { get; internal set; }

    /// <summary>The loaded main assembly; null unless loaded.</summary>
    public Assembly? Assembly { get; internal set; }

    /// <summary>The plugin's own load context; null unless loaded.</summary>
    public PluginLoadContext? LoadContext { get; internal set; }

    internal void SetComponents(IReadOnlyDictionary<Type, IReadOnlyList<Type>> components)
    {
        Components = components;
        Kinds = PluginContracts.All.Where(c => components.ContainsKey(c.Contract)).Select(c => c.Kind).ToArray();
    }

    internal void MarkFailed(string line)
    {
        Status = PluginStatus.Failed;
        Error = line;
    }

    internal void MarkDisabled()
    {
        Status = PluginStatus.Disabled;
        Error = null;
    }
}
