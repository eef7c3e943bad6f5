using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>
/// Remembers the last endpoint a connection's requests named, as raw bytes and as an <see cref="EndpointAddress"/>, so
/// that a stream of requests to one endpoint decodes it once instead of allocating three strings per request.
/// Used by one reader loop only.
/// </summary>
internal sealed class EndpointCache
{
    private byte[] _raw = [];
    private EndpointAddress _endpoint;

    public EndpointAddress Get(in ReadOnlySequence<byte> raw)
    {
        if (raw.IsSingleSegment)
        {
            return Get(raw.FirstSpan);
        }

        return Get(raw.ToArray());
    }

    private EndpointAddress Get(ReadOnlySpan<byte> raw)
    {
        if (_raw.Length != 0 && raw.SequenceEqual(_raw))
        {
            return _endpoint;
        }

        var endpoint = RequestHeaderCodec.DecodeEndpoint(raw);
        _raw = raw.ToArray();
        _endpoint = endpoint;
        return endpoint;
    }
}
