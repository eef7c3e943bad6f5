using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Plexus;

/// <summary>Unary and JSON conveniences over <see cref="IPlexusClient"/>.</summary>
public static class PlexusClientExtensions
{
    /// <summary>Calls an endpoint that answers with exactly one message and returns a copy of it.</summary>
    /// <param name="client">The client.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="payload">The request payload.</param>
    /// <param name="options">Headers, timeout and instance.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The one response message.</returns>
    /// <exception cref="PlexusException">The call failed, or the endpoint answered with no message or with more than one
    /// (<see cref="PlexusErrorCode.ProtocolError"/>).</exception>
    public static async ValueTask<byte[]> CallUnaryAsync(this IPlexusClient client, EndpointAddress endpoint, ReadOnlyMemory<byte> payload, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        await using var stream = await client.CallAsync(endpoint, new ReadOnlySequence<byte>(payload), options, cancellationToken).ConfigureAwait(false);
        if (!await stream.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            throw PlexusException.Protocol($"{endpoint} answered with no message; a unary call expects exactly one. Read it as a stream with CallAsync.");
        }

        var message = stream.Current.ToArray();
        if (await stream.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            throw PlexusException.Protocol($"{endpoint} answered with more than one message; a unary call expects exactly one. Read it as a stream with CallAsync.");
        }

        return message;
    }

    /// <summary>Sends <paramref name="request"/> as JSON and reads the one response message as JSON.</summary>
    /// <typeparam name="TRequest">The request type.</typeparam>
    /// <typeparam name="TResponse">The response type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="request">The request, serialized with <paramref name="json"/>.</param>
    /// <param name="options">Headers, timeout and instance.</param>
    /// <param name="json">Serializer options; null for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    /// <exception cref="PlexusException">The call failed, or its answer is not one message of <typeparamref name="TResponse"/>
    /// as JSON (<see cref="PlexusErrorCode.ProtocolError"/>).</exception>
    public static async ValueTask<TResponse> CallJsonAsync<TRequest, TResponse>(this IPlexusClient client, EndpointAddress endpoint, TRequest request, CallOptions? options = null, JsonSerializerOptions? json = null, CancellationToken cancellationToken = default)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, json ?? JsonSerializerOptions.Web);
        var message = await client.CallUnaryAsync(endpoint, payload, options, cancellationToken).ConfigureAwait(false);
        return Deserialize<TResponse>(endpoint, message, json);
    }

    /// <summary>Sends <paramref name="request"/> as JSON and reads every response message as JSON, as it arrives.</summary>
    /// <typeparam name="TRequest">The request type.</typeparam>
    /// <typeparam name="TResponse">The type of each response message.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="request">The request, serialized with <paramref name="json"/>.</param>
    /// <param name="options">Headers, timeout and instance.</param>
    /// <param name="json">Serializer options; null for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The messages, in order.</returns>
    public static async IAsyncEnumerable<TResponse> StreamJsonAsync<TRequest, TResponse>(this IPlexusClient client, EndpointAddress endpoint, TRequest request, CallOptions? options = null, JsonSerializerOptions? json = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, json ?? JsonSerializerOptions.Web);
        await using var stream = await client.CallAsync(endpoint, new ReadOnlySequence<byte>(payload), options, cancellationToken).ConfigureAwait(false);
        while (await stream.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Deserialize<TResponse>(endpoint, stream.Current, json);
        }
    }

    private static T Deserialize<T>(EndpointAddress endpoint, ReadOnlySequence<byte> message, JsonSerializerOptions? json)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            return JsonSerializer.Deserialize<T>(ref reader, json ?? JsonSerializerOptions.Web)!;
        }
        catch (JsonException e)
        {
            throw PlexusException.Protocol($"A response message of {endpoint} is not {typeof(T).Name} as JSON: {e.Message}");
        }
    }

    private static T Deserialize<T>(EndpointAddress endpoint, byte[] message, JsonSerializerOptions? json) =>
        Deserialize<T>(endpoint, new ReadOnlySequence<byte>(message), json);
}
