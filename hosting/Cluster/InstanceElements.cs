using System.Text.Json;

namespace Plexus.Hosting.Cluster;

/// <summary>Instances as JSON elements in control messages, in the format every JSON provider shares (<see cref="InstanceJson"/>).</summary>
internal static class InstanceElements
{
    public static JsonElement ToElement(Instance instance)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            InstanceJson.WriteFields(json, instance);
            json.WriteEndObject();
        }

        using var document = JsonDocument.Parse(stream.ToArray());
        return document.RootElement.Clone();
    }

    /// <exception cref="InvalidDataException">The element is not a valid instance.</exception>
    public static Instance FromElement(JsonElement element) =>
        InstanceJson.TryReadFields(element, out var instance, out var problem) ? instance : throw new InvalidDataException($"an instance in a control message is not valid: {problem}");
}
