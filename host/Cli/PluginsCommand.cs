using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.Plugins;

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

        var rows = new List<Spectre.Console.Rendering.IRenderable[]>(plugins.Count);
        foreach (var plugin in plugins)
        {
            var status = plugin.Status.ToString().ToLowerInvariant();
            var style = plugin.Status switch
            {
                PluginStatus.Loaded => "green",
                PluginStatus.Failed => "red",
                _ => "grey",
            };
            rows.Add(
            [
                ConsoleTable.Text(plugin.Name, "bold"),
                ConsoleTable.Text(plugin.Version),
                ConsoleTable.Text(string.Join(", ", plugin.Kinds)),
                ConsoleTable.Text(plugin.AbstractionsVersion?.ToString(3) ?? "?"),
                ConsoleTable.Text(plugin.Error is null ? status : $"{status}: {plugin.Error}", style),
            ]);
        }

        ConsoleTable.Write(output, ["Name", "Version", "Kinds", "Abstractions", "Status"], rows);
        return ExitCodes.Ok;
    }
}
