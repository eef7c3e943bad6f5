using System.Text.Json;

namespace Plexus;

/// <summary>JSON conveniences for handlers: read the request payload, write response messages.</summary>
public static class JsonMessages
{
    /// <summary>Reads the request payload as JSON.</summary>
    /// <typeparam name="T">The request type.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="json">Serializer options; null for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <returns>The request value.</returns>
    /// <exception cref="PlexusException">The payload is not <typeparamref name="T"/> as JSON
    /// (<see cref="PlexusErrorCode.HandlerError"/> to the caller, naming what was wrong).</exception>
    public static T ReadJson<T>(this RequestContext request, JsonSerializerOptions? json = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var reader = new Utf8JsonReader(request.Payload);
            return JsonSerializer.Deserialize<T>(ref reader, json ?? JsonSerializerOptions.Web)
                ?? throw new JsonException("the payload is the JSON null");
        }
        catch (JsonException e)
        {
            throw new PlexusException(PlexusErrorCode.HandlerError, $"The request to {request.Endpoint} is not {typeof(T).Name} as JSON: {e.Message}");
        }
    }

    /// <summary>Writes <paramref name="value"/> as one JSON message, without an intermediate array, and flushes it.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="writer">The response writer.</param>
    /// <param name="value">The message.</param>
    /// <param name="json">Serializer options; null for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <param name="cancellationToken">Cancels the wait for room.</param>
    /// <returns>A task that completes when the message is handed to the transport.</returns>
    public static ValueTask WriteJsonAsync<T>(this IResponseWriter writer, T value, JsonSerializerOptions? json = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using (var utf8 = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(utf8, value, json ?? JsonSerializerOptions.Web);
        }

        writer.EndMessage();
        return writer.FlushAsync(cancellationToken);
    }
}
