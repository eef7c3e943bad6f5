using System.Buffers;

namespace Plexus;

/// <summary>A request as a transport's server received it, handed to <see cref="IRequestDispatcher.DispatchAsync"/>.</summary>
/// <param name="Endpoint">The endpoint it names.</param>
/// <param name="Instance">The instance id it names.</param>
/// <param name="RequestId">The request id chosen by the client.</param>
/// <param name="Payload">The payload; valid until the dispatch completes.</param>
/// <param name="Headers">The headers, including <see cref="PlexusHeaders.TraceParent"/> when the client traces.</param>
/// <param name="Deadline">When the client stops waiting, if it set a deadline.</param>
/// <param name="Aborted">Fires when the client cancels the request or its connection is lost.</param>
public sealed record IncomingRequest(
    EndpointAddress Endpoint,
    InstanceId Instance,
    string RequestId,
    ReadOnlySequence<byte> Payload,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset? Deadline,
    CancellationToken Aborted);
