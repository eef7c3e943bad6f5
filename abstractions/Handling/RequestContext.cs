using System.Buffers;

namespace Plexus;

/// <summary>
/// One request as a handler sees it. The payload and headers are valid until the handler's task completes;
/// copy what must outlive it.
/// </summary>
public sealed class RequestContext
{
    /// <summary>Creates a request context; transports call this.</summary>
    /// <param name="endpoint">The endpoint the request was sent to.</param>
    /// <param name="requestId">The request id chosen by the client.</param>
    /// <param name="payload">The request payload.</param>
    /// <param name="headers">The request headers.</param>
    /// <param name="deadline">When the client stops waiting, if it set a deadline.</param>
    /// <param name="requestAborted">Fires when the client cancels, the deadline passes or the server aborts.</param>
    public RequestContext(
        EndpointAddress endpoint,
        string requestId,
        ReadOnlySequence<byte> payload,
        IReadOnlyDictionary<string, string> headers,
        DateTimeOffset? deadline,
        CancellationToken requestAborted)
    {
        Endpoint = endpoint;
        RequestId = requestId;
        Payload = payload;
        Headers = headers;
        Deadline = deadline;
        RequestAborted = requestAborted;
    }

    /// <summary>The endpoint the request was sent to.</summary>
    public EndpointAddress Endpoint { get; }

    /// <summary>The request id chosen by the client.</summary>
    public string RequestId { get; }

    /// <summary>The request payload.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>The request headers, including <see cref="PlexusHeaders.TraceParent"/> when the client traces.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>When the client stops waiting, if it set a deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the client cancels, the deadline passes or the server aborts the request.</summary>
    public CancellationToken RequestAborted { get; }
}
