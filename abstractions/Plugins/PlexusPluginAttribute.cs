namespace Plexus;

/// <summary>Marks the main assembly of a plugin and names it. Plugin names are unique in a host.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class PlexusPluginAttribute : Attribute
{
    /// <summary>Names the plugin.</summary>
    /// <param name="name">The plugin's name, such as <c>tcp</c>.</param>
    public PlexusPluginAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The plugin's name.</summary>
    public string Name { get; }
}
