using System.Runtime;
using System.Runtime.InteropServices;

namespace Plexus.Bench;

/// <summary>What the figures were measured on, printed with them: absolute numbers mean little without it.</summary>
internal sealed record BenchEnvironment(string Runtime, string OperatingSystem, string Architecture, int ProcessorCount, bool ServerGc)
{
    public static BenchEnvironment Current { get; } = new(
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        Environment.ProcessorCount,
        GCSettings.IsServerGC);
}
