namespace Plexus.Bench;

/// <summary>What one measurement exercises.</summary>
internal enum BenchScenario
{
    /// <summary>64-byte request, 64-byte response, repeated by one or more concurrent callers.</summary>
    Unary,

    /// <summary>One request answered by 100,000 16-byte messages, repeated.</summary>
    Stream,

    /// <summary>One 64 MiB request payload answered by a short acknowledgement, repeated.</summary>
    Bulk,

    /// <summary>
    /// Many concurrent token streams on one client, each a request answered by paced tokens (<see cref="ServingSettings"/>);
    /// not part of <c>all</c>.
    /// </summary>
    Serving,

    /// <summary>
    /// 64 MiB and 1 GiB payloads between two nodes of the library, with the bulk path (UCX) on and off, against
    /// ucx_perftest; not part of <c>all</c>.
    /// </summary>
    BulkPath,
}
