using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Plexus;

/// <summary>
/// An <see cref="Instance"/> as JSON fields, for discovery providers that store instances as JSON (the file provider,
/// etcd, a provider of your own): <c>namespace</c>, <c>component</c>, <c>endpoint</c>, <c>id</c>, <c>transport</c>,
/// <c>address</c> and <c>metadata</c>, written into and read from an object the provider owns, so that it can add its
/// own fields (a format version, a lease) beside them. Since abstractions 2.4. An instance on several transports also
/// has <c>addresses</c>, an array of <c>{"transport", "address"}</c> objects whose first entry repeats <c>transport</c>
/// and <c>address</c>, so that readers from before 2.5 still find one way to reach it (since 2.5).
/// </summary>
public static class InstanceJson
{
    /// <summary>Writes the instance's fields into the JSON object being written; metadata keys in ordinal order.</summary>
    /// <param name="json">A writer positioned inside an object.</param>
    /// <param name="instance">The instance.</param>
    public static void WriteFields(Utf8JsonWriter json, Instance instance)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(instance);
        json.WriteString("namespace", instance.Endpoint.Namespace);
        json.WriteString("component", instance.Endpoint.Component);
        json.WriteString("endpoint", instance.Endpoint.Endpoint);
        json.WriteString("id", instance.Id.ToString());
        json.WriteString("transport", instance.Transport);
        json.WriteString("address", instance.Address.OriginalString);
        var addresses = instance.Addresses;
        if (addresses.Count > 1)
        {
            json.WriteStartArray("addresses");
            foreach (var entry in addresses)
            {
                json.WriteStartObject();
                json.WriteString("transport", entry.Transport);
                json.WriteString("address", entry.Address.OriginalString);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteStartObject("metadata");
        var keys = new string[instance.Metadata.Count];
        var i = 0;
        foreach (var key in instance.Metadata.Keys)
        {
            keys[i++] = key;
        }

        Array.Sort(keys, StringComparer.Ordinal);
        foreach (var key in keys)
        {
            json.WriteString(key, instance.Metadata[key]);
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// Reads the instance's fields from a JSON object. Metadata values that are not strings are kept as their JSON text.
    /// </summary>
    /// <param name="root">The object.</param>
    /// <param name="instance">The instance, when the fields are valid.</param>
    /// <param name="problem">What was wrong, naming the field, when they are not; empty otherwise.</param>
    /// <returns><see langword="true"/> when the fields make a valid instance.</returns>
    public static bool TryReadFields(JsonElement root, [NotNullWhen(true)] out Instance? instance, out string problem)
    {
        instance = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = "the value is not a JSON object";
            return false;
        }

        try
        {
            var endpoint = new EndpointAddress(Text(root, "namespace"), Text(root, "component"), Text(root, "endpoint"));
            if (!InstanceId.TryParse(Text(root, "id"), out var id))
            {
                problem = "'id' is not an instance id";
                return false;
            }

            var transport = Text(root, "transport");
            if (!Uri.TryCreate(Text(root, "address"), UriKind.Absolute, out var address))
            {
                problem = "'address' is not an absolute URI";
                return false;
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
            {
                if (meta.ValueKind != JsonValueKind.Object)
                {
                    problem = "'metadata' is not an object";
                    return false;
                }

                foreach (var property in meta.EnumerateObject())
                {
                    metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString() ?? string.Empty
                        : property.Value.GetRawText();
                }
            }

            var made = new Instance(endpoint, id, transport, address, metadata);
            if (root.TryGetProperty("addresses", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (!TryReadAddresses(list, transport, address, out var addresses, out problem))
                {
                    return false;
                }

                made = made with { Addresses = addresses };
            }

            problem = string.Empty;
            instance = made;
            return true;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            problem = ex.Message;
            return false;
        }
    }

    private static bool TryReadAddresses(JsonElement list, string transport, Uri address, [NotNullWhen(true)] out List<InstanceAddress>? addresses, out string problem)
    {
        addresses = null;
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            problem = "'addresses' is not a non-empty array";
            return false;
        }

        var read = new List<InstanceAddress>(list.GetArrayLength());
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                problem = $"'addresses' entry {read.Count} is not an object";
                return false;
            }

            var name = Text(item, "transport");
            if (!Uri.TryCreate(Text(item, "address"), UriKind.Absolute, out var uri))
            {
                problem = $"'addresses' entry {read.Count} has an 'address' that is not an absolute URI";
                return false;
            }

            read.Add(new InstanceAddress(name, uri));
        }

        if (!string.Equals(read[0].Transport, transport, StringComparison.Ordinal) || read[0].Address != address)
        {
            problem = "'addresses' does not begin with the instance's 'transport' and 'address'";
            return false;
        }

        problem = string.Empty;
        addresses = read;
        return true;
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"'{name}' is missing or empty");
}
