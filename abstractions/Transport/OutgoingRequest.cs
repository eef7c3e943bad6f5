using System.Buffers;

namespace Plexus;

/// <summary>A request as a client hands it to a transport.</summary>
/// <param name="Endpoint">The endpoint to call.</param>
/// <param name="Instance">The instance id the server must be serving the endpoint as.</param>
/// <param name="RequestId">The request id, unique for the client.</param>
/// <param name="Payload">The payload.</param>
/// <param name="Headers">The headers, including <see cref="PlexusHeaders.TraceParent"/> when tracing.</param>
/// <param name="Deadline">When the client stops waiting, if ever.</param>
public sealed record OutgoingRequest(
    EndpointAddress Endpoint,
    InstanceId Instance,
    string RequestId,
    ReadOnlySequence<byte> Payload,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset? Deadline);
