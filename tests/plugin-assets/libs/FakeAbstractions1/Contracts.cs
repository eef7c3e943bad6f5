namespace Plexus;

/// <summary>The 1.x plugin marker.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class PlexusPluginAttribute(string name) : Attribute
{
    /// <summary>The plugin's name.</summary>
    public string Name { get; } = name;
}

/// <summary>The 1.x server contract: the transport kept its own endpoint registry.</summary>
public interface IRequestPlaneServer
{
    /// <summary>Serves an endpoint.</summary>
    void Register(string endpoint, ulong instance, object handler);
}
