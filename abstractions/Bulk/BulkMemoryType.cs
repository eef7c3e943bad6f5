namespace Plexus;

/// <summary>Where a region's bytes live. Only host memory exists today; the field leaves room for device memory.</summary>
public enum BulkMemoryType
{
    /// <summary>Ordinary memory of the owner's process.</summary>
    Host = 0,
}
