namespace Plexus.Bench;

/// <summary>What the process holds at one moment of a serving measurement, after a full garbage collection.</summary>
/// <param name="ManagedBytes">Live managed bytes (<see cref="GC.GetTotalMemory(bool)"/> after a full collection).</param>
/// <param name="WorkingSetBytes">The process's working set (<see cref="System.Diagnostics.Process.WorkingSet64"/>).</param>
/// <param name="Threads">The process's threads, every kind.</param>
/// <param name="Timers">Active timers of the runtime (<see cref="Timer.ActiveCount"/>), every kind.</param>
internal sealed record ServingResources(long ManagedBytes, long WorkingSetBytes, int Threads, long Timers);

/// <summary>One subject's result for one serving plan. Client and server run in this process, so every figure is both sides together.</summary>
/// <param name="Subject">The subject's name.</param>
/// <param name="Plan">Streams, connections, tokens and pace.</param>
/// <param name="HasConnections">False for the in-process reference, which has none.</param>
/// <param name="Served">Streams that got every token in order and then a clean end.</param>
/// <param name="Failed">Streams that failed or ended short.</param>
/// <param name="FirstError">The first failure, or null.</param>
/// <param name="OpenWhenIdle">Streams open (their first token arrived) when the idle memory was read.</param>
/// <param name="TokensReceived">Tokens that arrived, over all streams.</param>
/// <param name="OpenElapsed">From the first request sent to every stream having its first token.</param>
/// <param name="ServeElapsed">From the pacer's start to the end of the last stream.</param>
/// <param name="Latencies">Time to first token and added inter-token latency; null when no stream was served.</param>
/// <param name="OpenCpu">Process CPU time while the streams opened (and got their first token).</param>
/// <param name="ServeCpu">Process CPU time while the paced tokens flowed.</param>
/// <param name="Bare">Before the connections were opened.</param>
/// <param name="Connected">With the connections open, before any stream.</param>
/// <param name="Idle">With every stream open and idle, waiting for its paced tokens.</param>
/// <param name="ServeAllocatedBytes">Managed bytes allocated by every thread while the paced tokens flowed.</param>
internal sealed record ServingMeasurement(
    string Subject,
    ServingPlan Plan,
    bool HasConnections,
    int Served,
    int Failed,
    string? FirstError,
    int OpenWhenIdle,
    long TokensReceived,
    TimeSpan OpenElapsed,
    TimeSpan ServeElapsed,
    ServingLatencies? Latencies,
    TimeSpan OpenCpu,
    TimeSpan ServeCpu,
    ServingResources Bare,
    ServingResources Connected,
    ServingResources Idle,
    long ServeAllocatedBytes)
{
    /// <summary>Process CPU time, opening and serving together, per token that arrived.</summary>
    public double? CpuMicrosecondsPerToken => TokensReceived > 0 ? (OpenCpu + ServeCpu).TotalMicroseconds / TokensReceived : null;

    /// <summary>Live managed bytes per open idle stream, over what the open connections held.</summary>
    public double? ManagedBytesPerStream => OpenWhenIdle > 0 ? (double)(Idle.ManagedBytes - Connected.ManagedBytes) / OpenWhenIdle : null;

    /// <summary>Working set bytes per open idle stream, over what the open connections held.</summary>
    public double? WorkingSetBytesPerStream => OpenWhenIdle > 0 ? (double)(Idle.WorkingSetBytes - Connected.WorkingSetBytes) / OpenWhenIdle : null;

    /// <summary>Live managed bytes per open connection without streams.</summary>
    public double? ManagedBytesPerConnection => HasConnections ? (double)(Connected.ManagedBytes - Bare.ManagedBytes) / Plan.Connections : null;

    /// <summary>Working set bytes per open connection without streams.</summary>
    public double? WorkingSetBytesPerConnection => HasConnections ? (double)(Connected.WorkingSetBytes - Bare.WorkingSetBytes) / Plan.Connections : null;

    /// <summary>Tokens that arrived while the pacer ran: all but the first token of each stream open by then.</summary>
    public long ServedTokens => TokensReceived - OpenWhenIdle;

    /// <summary>Tokens per second over all streams while they flowed.</summary>
    public double TokensPerSecond => ServeElapsed > TimeSpan.Zero ? ServedTokens / ServeElapsed.TotalSeconds : 0;

    /// <summary>Managed bytes allocated (both sides, the harness, the pacer) per token while the paced tokens flowed.</summary>
    public double? AllocatedBytesPerToken => ServedTokens > 0 ? (double)ServeAllocatedBytes / ServedTokens : null;
}
