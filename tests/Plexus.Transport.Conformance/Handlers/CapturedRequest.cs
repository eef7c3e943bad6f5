namespace Plexus.Transport.Conformance;

/// <summary>What a handler saw of a request, copied so that it outlives the handler.</summary>
internal sealed record CapturedRequest(
    EndpointAddress Endpoint,
    string RequestId,
    byte[] Payload,
    Dictionary<string, string> Headers,
    DateTimeOffset? Deadline,
    bool AbortedOnArrival);
