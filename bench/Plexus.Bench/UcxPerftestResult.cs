namespace Plexus.Bench;

/// <summary>The summary of one <c>ucx_perftest</c> run: UCX's own figure for a transfer, next to which the bulk path is quoted.</summary>
/// <param name="Test">The test as asked for (<c>ucp_put_bw</c> or <c>ucp_get_bw</c>).</param>
/// <param name="MessageBytes">The size of one message.</param>
/// <param name="BytesPerSecond">The overall bandwidth of the measured iterations, in bytes (not MiB) per second.</param>
/// <param name="LatencyMicroseconds">
/// The overall time per message (UCX's "overhead" column for put, "latency" for get); null when UCX printed none.
/// </param>
internal sealed record UcxPerftestResult(string Test, long MessageBytes, double BytesPerSecond, double? LatencyMicroseconds);
