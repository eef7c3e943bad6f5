using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Composition;

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

        output.WriteLine($"{"ENDPOINT",-36} {"INSTANCE",-16} {"TRANSPORT",-10} ADDRESS");
        foreach (var instance in instances)
        {
            output.WriteLine($"{instance.Endpoint,-36} {instance.Id,-16} {instance.Transport,-10} {instance.Address}");
        }

        return ExitCodes.Ok;
    }
}
