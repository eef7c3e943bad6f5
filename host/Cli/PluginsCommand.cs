using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Plugins;

namespace Plexus.Host.Cli;

/// <summary><c>plugins</c>: lists every plugin found and whether it loaded.</summary>
internal static class PluginsCommand
{
    public static int Run(IHost host, bool json, TextWriter output)
    {
        var catalog = host.Services.GetRequiredService<PluginCatalog>();
        // Creating the components runs their constructors, so a plugin that throws there shows as failed.
        catalog.ActivateAll(host.Services);
        var plugins = catalog.Plugins;
        if (json)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                catalog.WriteJson(writer);
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            return ExitCodes.Ok;
        }

        if (plugins.Count == 0)
        {
            output.WriteLine("No plugins found.");
            return ExitCodes.Ok;
        }

        output.WriteLine($"{"NAME",-16} {"VERSION",-12} {"KINDS",-24} {"ABSTRACTIONS",-12} STATUS");
        foreach (var plugin in plugins)
        {
            output.WriteLine($"{plugin.Name,-16} {plugin.Version,-12} {string.Join(",", plugin.Kinds),-24} {plugin.AbstractionsVersion?.ToString(3) ?? "?",-12} {plugin.Status.ToString().ToLowerInvariant()}");
            if (plugin.Error is not null)
            {
                output.WriteLine($"  {plugin.Error}");
            }
        }

        return ExitCodes.Ok;
    }
}
