using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.Composition;

namespace Plexus.Host.Cli;

/// <summary><c>instances</c>: lists the instances discovery knows.</summary>
internal static class InstancesCommand
{
    public static async Task<int> RunAsync(IHost host, EndpointAddress? endpoint, bool json, TextWriter output, CancellationToken cancellationToken)
    {
        var discovery = host.Services.GetRequiredService<PlexusComposition>().Discovery;
        var instances = await discovery.ListAsync(endpoint, cancellationToken);
        if (json)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartArray();
                foreach (var instance in instances)
                {
                    writer.WriteStartObject();
                    writer.WriteString("endpoint", instance.Endpoint.ToString());
                    writer.WriteString("instance", instance.Id.ToString());
                    writer.WriteString("transport", instance.Transport);
                    writer.WriteString("address", instance.Address.ToString());
                    writer.WriteStartArray("addresses");
                    foreach (var entry in instance.Addresses)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("transport", entry.Transport);
                        writer.WriteString("address", entry.Address.ToString());
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    writer.WriteStartObject("metadata");
                    foreach (var (key, value) in instance.Metadata)
                    {
                        writer.WriteString(key, value);
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            return ExitCodes.Ok;
        }

        if (instances.Count == 0)
        {
            output.WriteLine($"No instances registered in discovery '{discovery.Name}'.");
            return ExitCodes.Ok;
        }

        var rows = new List<Spectre.Console.Rendering.IRenderable[]>(instances.Count);
        foreach (var instance in instances)
        {
            rows.Add(
            [
                ConsoleTable.Text(instance.Endpoint.ToString(), "bold"),
                ConsoleTable.Text(instance.Id.ToString()),
                ConsoleTable.Text(instance.Metadata.TryGetValue(InstanceMetadataKeys.Node, out var node) ? node : string.Empty),
                ConsoleTable.Text(string.Join("\n", instance.Addresses.Select(static a => a.Transport))),
                ConsoleTable.Text(string.Join("\n", instance.Addresses.Select(static a => a.Address.ToString()))),
                ConsoleTable.Text(instance.Load.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)),
                ConsoleTable.Text(instance.IsBusy ? "busy" : string.Empty, "yellow"),
            ]);
        }

        ConsoleTable.Write(output, ["Endpoint", "Instance", "Node", "Transport", "Address", "Load", ""], rows);
        return ExitCodes.Ok;
    }
}
