using System.Buffers;
using System.Text.Json;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// The value of one instance's key: the instance as JSON, written and read by hand with <see cref="Utf8JsonWriter"/> and
/// <see cref="JsonDocument"/> so that every field is checked and nothing depends on reflection.
/// </summary>
/// <example>
/// <code>
/// {"version":1,"namespace":"demo","component":"echo","endpoint":"echo","id":"00000000075bcd15","transport":"tcp",
///  "address":"tcp://10.0.0.7:7400","metadata":{"node":"node-7"},"pid":4242}
/// </code>
/// </example>
internal static class EtcdInstanceRecord
{
    public const int FormatVersion = 1;

    /// <summary>Values larger than this are treated as corrupt rather than parsed.</summary>
    public const int MaxValueBytes = 1024 * 1024;

    /// <summary>The instance as the JSON value of its key.</summary>
    public static byte[] Serialize(Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var buffer = new ArrayBufferWriter<byte>(384);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            InstanceJson.WriteFields(json, instance);
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a key's value; on failure returns null and says what was wrong.</summary>
    /// <param name="value">The value's bytes.</param>
    /// <param name="problem">What was wrong, when the result is null.</param>
    /// <returns>The instance, or null.</returns>
    public static Instance? TryParse(ReadOnlyMemory<byte> value, out string problem)
    {
        if (value.Length > MaxValueBytes)
        {
            problem = $"its value is {value.Length} bytes, over the limit of {MaxValueBytes}";
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(value);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "its value is not a JSON object";
                return null;
            }

            if (!root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion)
            {
                problem = $"its format version is missing or not {FormatVersion}";
                return null;
            }

            if (!InstanceJson.TryReadFields(root, out var instance, out problem))
            {
                return null;
            }

            return instance;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            problem = ex.Message;
            return null;
        }
    }
}
