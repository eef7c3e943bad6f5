using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Plexus.Hosting.Discovery;

/// <summary>
/// The content of one instance file: the instance, who holds its lease and until when. Written and read by hand with
/// <see cref="Utf8JsonWriter"/> and <see cref="JsonDocument"/> so every field is checked and nothing depends on reflection.
/// </summary>
internal sealed record DiscoveryFileRecord(Instance Instance, string LeaseId, TimeSpan TimeToLive, DateTimeOffset ExpiresAt, int ProcessId)
{
    public const int FormatVersion = 1;

    /// <summary>Files larger than this are treated as corrupt rather than read into memory.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            InstanceJson.WriteFields(json, Instance);
            json.WriteString("leaseId", LeaseId);
            json.WriteNumber("ttlMs", (long)TimeToLive.TotalMilliseconds);
            json.WriteString("expiresAt", ExpiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("pid", ProcessId);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a file's bytes; on failure returns null and says what was wrong.</summary>
    public static DiscoveryFileRecord? TryParse(ReadOnlyMemory<byte> content, out string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "the content is not a JSON object";
                return null;
            }

            if (!root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion)
            {
                problem = $"the format version is missing or not {FormatVersion}";
                return null;
            }

            if (!InstanceJson.TryReadFields(root, out var instance, out problem))
            {
                return null;
            }

            var leaseId = String(root, "leaseId");
            var ttl = TimeSpan.FromMilliseconds(root.GetProperty("ttlMs").GetInt64());
            var expiresAt = DateTimeOffset.Parse(String(root, "expiresAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var pid = root.TryGetProperty("pid", out var p) && p.TryGetInt32(out var n) ? n : 0;

            problem = string.Empty;
            return new DiscoveryFileRecord(instance, leaseId, ttl, expiresAt, pid);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            problem = ex.Message;
            return null;
        }
    }

    private static string String(JsonElement root, string name) =>
        root.GetProperty(name).GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"'{name}' is empty");
}
