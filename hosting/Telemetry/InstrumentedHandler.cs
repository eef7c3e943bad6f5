using System.Diagnostics;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// Wraps a served endpoint's handler with the server side's metrics and its <c>plexus.server.handle</c> span,
/// whose parent is the client's span named by the request's <c>traceparent</c> header.
/// </summary>
internal sealed class InstrumentedHandler(IEndpointHandler inner, RequestPlaneMetrics metrics, TimeProvider time, string endpoint, string transport) : IEndpointHandler
{
    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var activity = StartActivity(request);
        var telemetry = new CallTelemetry(metrics, time, activity, endpoint, transport, request.Payload.Length, server: true);
        try
        {
            await inner.HandleAsync(request, new CountingResponseWriter(responses, telemetry));
            telemetry.End(null);
        }
        catch (Exception ex)
        {
            telemetry.End(ex);
            throw;
        }
    }

    private Activity? StartActivity(RequestContext request)
    {
        if (!PlexusActivity.Source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        if (request.Headers.TryGetValue(PlexusHeaders.TraceParent, out var traceParent))
        {
            request.Headers.TryGetValue(PlexusHeaders.TraceState, out var traceState);
            ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
        }

        var activity = PlexusActivity.Source.StartActivity("plexus.server.handle", ActivityKind.Server, parent);
        activity?.SetTag("plexus.endpoint", endpoint);
        activity?.SetTag("plexus.request_id", request.RequestId);
        return activity;
    }

    /// <summary>Counts each response message's bytes as it is ended.</summary>
    private sealed class CountingResponseWriter(IResponseWriter inner, CallTelemetry telemetry) : IBulkResponseWriter
    {
        public string? BulkTransport => (inner as IBulkResponseWriter)?.BulkTransport;

        public void EndMessage(BulkDescriptor descriptor, Action? whenRead)
        {
            if (inner is not IBulkResponseWriter bulk)
            {
                throw new InvalidOperationException("This request's client cannot pull by bulk transfer (BulkTransport is null); write the bytes instead.");
            }

            bulk.EndMessage(descriptor, whenRead);
            telemetry.Message(descriptor.Length);
            _pending = 0;
        }

        private long _pending;

        public void Advance(int count)
        {
            inner.Advance(count);
            _pending += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public void EndMessage()
        {
            inner.EndMessage();
            telemetry.Message(_pending);
            _pending = 0;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
    }
}
