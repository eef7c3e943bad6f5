namespace Plexus;

/// <summary>Local memory registered with a bulk transport. Disposing it unregisters and unpins the memory.</summary>
public interface IBulkRegion : IDisposable
{
    /// <summary>What a peer needs to reach the region; send it inline with a request or response.</summary>
    BulkDescriptor Descriptor { get; }
}
