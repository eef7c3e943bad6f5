using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Plexus.Hosting.Configuration;

/// <summary>Makes every TimeSpan setting bound in this process read durations the Plexus way (docs/configuration.md).</summary>
internal static class DurationSettings
{
    /// <summary>
    /// Runs when this library is first touched, before any of its extension methods binds a section: the library's own
    /// options, the plugins' (they bind through the same binder and TypeDescriptor), and applications that reference it.
    /// A call in each <c>Add…</c> method was tried and missed the entry points that bind without <c>AddPlexus</c>.
    /// </summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Registering the duration converter must precede every binding the library does; the registration is idempotent.")]
    internal static void Register() => PlexusDurationConverter.Register();
}
