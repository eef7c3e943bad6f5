using System.Globalization;
using Microsoft.Extensions.Configuration;
using Plexus.Hosting.Composition;

namespace Plexus.Host.Hosting;

/// <summary>
/// Two settings of the demo from before it shipped as a plugin, still honoured: <c>Plexus:Demo:Namespace</c> sets
/// <c>Plexus:Endpoints:Namespace</c> unless that is set, and <c>Plexus:Demo:Enabled</c> false disables the <c>demo</c>
/// plugin. A plugin cannot rename its own endpoints or withdraw them, so the host translates the keys.
/// </summary>
internal static class DemoSettings
{
    public const string Plugin = "demo";

    /// <summary>Adds the translated keys to <paramref name="configuration"/>; call it before the plugins load.</summary>
    /// <exception cref="PlexusConfigurationException"><c>Plexus:Demo:Namespace</c> is not a namespace.</exception>
    public static void Apply(IConfigurationManager configuration)
    {
        var added = new Dictionary<string, string?>();
        var ns = configuration["Plexus:Demo:Namespace"];
        if (!string.IsNullOrEmpty(ns) && string.IsNullOrEmpty(configuration["Plexus:Endpoints:Namespace"]))
        {
            if (!EndpointAddress.TryParse($"{ns}/echo/echo", out _))
            {
                throw new PlexusConfigurationException($"Plexus:Demo:Namespace is '{ns}'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.");
            }

            added["Plexus:Endpoints:Namespace"] = ns;
        }

        if (!configuration.GetValue("Plexus:Demo:Enabled", true))
        {
            // Appended after the highest index, so that entries set elsewhere stay.
            var next = configuration.GetSection("Plexus:Plugins:Disabled").GetChildren()
                .Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i + 1 : 0)
                .DefaultIfEmpty(0)
                .Max();
            added[$"Plexus:Plugins:Disabled:{next}"] = Plugin;
        }

        if (added.Count > 0)
        {
            configuration.AddInMemoryCollection(added);
        }
    }
}
