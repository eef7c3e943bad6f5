namespace Plexus;

[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class PlexusPluginAttribute : Attribute
{
    public PlexusPluginAttribute(string name)
    {
        Name = name;
    }

    public string Name { get; }
}
