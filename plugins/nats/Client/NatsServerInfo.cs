using System.Buffers;
using System.Text.Json;

namespace Plexus.Transport.Nats.Client;

/// <summary>What a server says about itself in INFO: the facts this client acts on.</summary>
internal sealed class NatsServerInfo
{
    /// <summary>The server's id.</summary>
    public string ServerId { get; private init; } = string.Empty;

    /// <summary>The server's name.</summary>
    public string ServerName { get; private init; } = string.Empty;

    /// <summary>The server's version.</summary>
    public string Version { get; private init; } = string.Empty;

    /// <summary>The protocol version the server speaks.</summary>
    public int Protocol { get; private init; }

    /// <summary>Whether the server accepts headers (HPUB/HMSG).</summary>
    public bool Headers { get; private init; }

    /// <summary>The largest message (headers and payload) the server accepts.</summary>
    public long MaxPayload { get; private init; } = 1024 * 1024;

    /// <summary>Whether the server requires TLS.</summary>
    public bool TlsRequired { get; private init; }

    /// <summary>Whether the server offers TLS.</summary>
    public bool TlsAvailable { get; private init; }

    /// <summary>Whether the server requires credentials.</summary>
    public bool AuthRequired { get; private init; }

    /// <summary>Other servers of the cluster, as <c>host:port</c>.</summary>
    public IReadOnlyList<string> ConnectUrls { get; private init; } = [];

    /// <summary>Whether the server is in lame-duck mode: about to shut down, clients should move on.</summary>
    public bool LameDuckMode { get; private init; }

    /// <summary>Parses INFO's JSON.</summary>
    /// <param name="json">The JSON object.</param>
    /// <returns>The facts.</returns>
    /// <exception cref="NatsProtocolException">The JSON is not valid.</exception>
    public static NatsServerInfo Parse(ReadOnlySequence<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new NatsProtocolException("The server's INFO is not a JSON object.");
            }

            var urls = new List<string>();
            if (root.TryGetProperty("connect_urls", out var connectUrls) && connectUrls.ValueKind == JsonValueKind.Array)
            {
                foreach (var url in connectUrls.EnumerateArray())
                {
                    if (url.ValueKind == JsonValueKind.String && url.GetString() is { Length: > 0 } text)
                    {
                        urls.Add(text);
                    }
                }
            }

            return new NatsServerInfo
            {
                ServerId = String(root, "server_id"),
                ServerName = String(root, "server_name"),
                Version = String(root, "version"),
                Protocol = (int)Number(root, "proto", 0),
                Headers = Bool(root, "headers"),
                MaxPayload = Number(root, "max_payload", 1024 * 1024),
                TlsRequired = Bool(root, "tls_required"),
                TlsAvailable = Bool(root, "tls_available"),
                AuthRequired = Bool(root, "auth_required"),
                ConnectUrls = urls,
                LameDuckMode = Bool(root, "ldm"),
            };
        }
        catch (JsonException exception)
        {
            throw new NatsProtocolException($"The server's INFO is not valid JSON: {exception.Message}");
        }
    }

    private static string String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    private static bool Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static long Number(JsonElement root, string name, long fallback) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : fallback;
}
