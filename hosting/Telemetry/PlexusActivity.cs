using System.Diagnostics;

namespace Plexus.Hosting.Telemetry;

/// <summary>The request plane's spans: <c>plexus.client.send</c> around a call, <c>plexus.server.handle</c> around a handler.</summary>
internal static class PlexusActivity
{
    public const string SourceName = "Plexus.RequestPlane";

    public static readonly ActivitySource Source = new(SourceName, typeof(PlexusActivity).Assembly.GetName().Version?.ToString(3));
}
