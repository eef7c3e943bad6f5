using System.Collections.Concurrent;

namespace Plexus.Transport.Nats;

/// <summary>
/// Reads the endpoint named by a request subject's tokens (<c>&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c>,
/// '~' standing for '.'). The endpoints a server is asked for are few and repeat, so those the dispatcher admitted are
/// kept, up to a bound: a request to one of them allocates no strings. Safe for concurrent use.
/// </summary>
internal sealed class NatsEndpointNames
{
    // Three segments of at most 64 characters and their two separators.
    private const int MaxTokensLength = (3 * 64) + 2;

    // Names a client made up are never kept (only admitted ones are), so this bounds only unregister/register churn.
    private const int MaxKept = 1024;

    private readonly ConcurrentDictionary<string, EndpointAddress> _kept = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, EndpointAddress>.AlternateLookup<ReadOnlySpan<char>> _keptBySpan;

    /// <summary>Creates an empty set.</summary>
    public NatsEndpointNames()
    {
        _keptBySpan = _kept.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Reads the endpoint of a request subject.</summary>
    /// <param name="tokens">The subject's three endpoint tokens, as received.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="kept">Whether it was already kept (nothing was allocated).</param>
    /// <returns><see langword="false"/> when the tokens do not name a valid endpoint.</returns>
    public bool TryRead(ReadOnlySpan<byte> tokens, out EndpointAddress endpoint, out bool kept)
    {
        endpoint = default;
        kept = false;
        if (tokens.Length > MaxTokensLength)
        {
            return false;
        }

        Span<char> chars = stackalloc char[MaxTokensLength];
        var text = chars[..tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            // Bytes above 127 become characters the endpoint rules refuse below.
            text[i] = (char)tokens[i];
        }

        if (_keptBySpan.TryGetValue(text, out endpoint))
        {
            kept = true;
            return true;
        }

        // namespace/component/endpoint, as the address parser takes it: '.' separated tokens, '~' stood for '.'.
        for (var i = 0; i < text.Length; i++)
        {
            text[i] = text[i] switch
            {
                '.' => '/',
                '~' => '.',
                var c => c,
            };
        }

        return EndpointAddress.TryParse(new string(text), out endpoint);
    }

    /// <summary>Keeps an endpoint the dispatcher admitted, so that its next requests allocate no strings.</summary>
    /// <param name="endpoint">The endpoint.</param>
    public void Keep(EndpointAddress endpoint)
    {
        if (_kept.Count < MaxKept)
        {
            _kept.TryAdd($"{NatsAddress.Token(endpoint.Namespace)}.{NatsAddress.Token(endpoint.Component)}.{NatsAddress.Token(endpoint.Endpoint)}", endpoint);
        }
    }
}
