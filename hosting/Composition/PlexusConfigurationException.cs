namespace Plexus.Hosting.Composition;

/// <summary>A configuration that names something this host does not have; the message names the key and the fix.</summary>
internal sealed class PlexusConfigurationException : Exception
{
    public PlexusConfigurationException(string message)
        : base(message)
    {
    }
}
