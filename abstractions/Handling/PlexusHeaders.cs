namespace Plexus;

/// <summary>Well-known header names carried with every request.</summary>
public static class PlexusHeaders
{
    /// <summary>The W3C trace-context <c>traceparent</c> header.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>The W3C trace-context <c>tracestate</c> header.</summary>
    public const string TraceState = "tracestate";
}
