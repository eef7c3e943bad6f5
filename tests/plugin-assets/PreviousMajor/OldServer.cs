[assembly: Plexus.PlexusPlugin("previous-major")]

namespace Plexus.Test.PreviousMajor;

internal sealed class OldServer : IRequestPlaneServer
{
    public void Register(string endpoint, ulong instance, object handler)
    {
    }
}
