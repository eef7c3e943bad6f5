namespace Plexus;

/// <summary>Well-known header names carried with every request.</summary>
public static class PlexusHeaders
{
    /// <summary>The W3C trace-context <c>traceparent</c> header.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>The W3C trace-context <c>tracestate</c> header.</summary>
    public const string TraceState = "tracestate";

    /// <summary>
    /// Set by the request plane on a request whose payload is a bulk descriptor (its value is the bulk transport's
    /// name): the receiver pulls the bytes before the handler runs. Handlers never see it.
    /// </summary>
    public const string Bulk = "bulk-offer";

    /// <summary>
    /// Set by the request plane on a request whose client can pull response messages by bulk transfer (its value is
    /// the bulk transport's name); see <c>docs/protocol/bulk.md</c>. Handlers never see it.
    /// </summary>
    public const string BulkAccept = "bulk-accept";
}
