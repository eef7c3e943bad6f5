using System.Runtime.CompilerServices;

namespace Plexus.Host.Hosting;

/// <summary>Makes every TimeSpan setting bound in this process read durations the Plexus way (docs/configuration.md).</summary>
internal static class DurationSettings
{
    /// <summary>
    /// Runs when the host assembly loads, before anything can bind configuration: the host's own options, the plugins'
    /// (they bind through the same binder and TypeDescriptor), and code that builds the host's services in-process.
    /// </summary>
    [ModuleInitializer]
    internal static void Register() => PlexusDurationConverter.Register();
}
