using System.Diagnostics.Metrics;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// The bulk path's meters, on the request plane's meter: bytes of large payloads by how they moved, bulk transfers by
/// direction and result, and fallbacks to inline by reason.
/// </summary>
internal sealed class BulkMetrics
{
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _transfers;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _offers;

    public BulkMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(RequestPlaneMetrics.MeterName);
        _bytes = meter.CreateCounter<long>("plexus.bulk.bytes", "By", "Bytes of payloads and messages over Plexus:Bulk:Threshold, by path: bulk (pulled out of band) or inline (over the stream transport).");
        _transfers = meter.CreateCounter<long>("plexus.bulk.transfers", "{transfer}", "Bulk transfers pulled by this node, by direction (request or response) and result (ok or failed).");
        _offers = meter.CreateCounter<long>("plexus.bulk.offers", "{message}", "Response messages this node offered by descriptor, by state: offered when sent, then released (pulled), fetched (sent inline after a failed pull) or expired (nobody asked within Plexus:Bulk:HoldTimeout).");
        _fallbacks = meter.CreateCounter<long>("plexus.bulk.fallbacks", "{payload}", "Payloads over the threshold that went inline although the bulk path is on, by reason: unavailable (no bulk transport here), peer (the peer has none in common), failed (a transfer failed).");
    }

    public void Pulled(string direction, long bytes)
    {
        _transfers.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("result", "ok"));
        _bytes.Add(bytes, new KeyValuePair<string, object?>("path", "bulk"));
    }

    public void PullFailed(string direction) =>
        _transfers.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("result", "failed"));

    public void Offer(string state) => _offers.Add(1, new KeyValuePair<string, object?>("state", state));

    public void Inline(long bytes, string reason)
    {
        _bytes.Add(bytes, new KeyValuePair<string, object?>("path", "inline"));
        _fallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }
}
