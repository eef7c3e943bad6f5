namespace Plexus.Transport.Tcp;

/// <summary>The fields of a received REQUEST frame header.</summary>
internal readonly record struct DecodedRequest(
    EndpointAddress Endpoint,
    InstanceId Instance,
    DateTimeOffset? Deadline,
    long PayloadLength,
    string RequestId,
    IReadOnlyDictionary<string, string> Headers);
