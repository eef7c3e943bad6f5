namespace Plexus;

/// <summary>
/// A registered region that this process reads and writes directly: fill <see cref="Memory"/> and hand out
/// <see cref="IBulkRegion.Descriptor"/>, or let a peer write into it. Disposing unregisters it; <see cref="Memory"/>
/// must not be used after that.
/// </summary>
public interface IBulkBuffer : IBulkRegion
{
    /// <summary>The region's bytes.</summary>
    Memory<byte> Memory { get; }
}
