namespace Plexus.Router.Affinity;

/// <summary>
/// The names the two strategies read: request headers set by callers, and the discovery metadata key services
/// publish their blocks under.
/// </summary>
public static class AffinityHeaders
{
    /// <summary>
    /// The request header of the <c>affinity</c> strategy: requests with the same value go to the same instance while
    /// its load stays within the bound. Any text; compared as ordinal characters.
    /// </summary>
    public const string AffinityKey = "plexus-affinity-key";

    /// <summary>
    /// The request header of the <c>prefix</c> strategy: the request's block hashes in order, comma-separated hex
    /// (<see cref="PrefixBlocks.Format"/>), computed by the caller with <see cref="PrefixBlocks.Chain"/>.
    /// </summary>
    public const string PrefixBlocks = "plexus-prefix-blocks";

    /// <summary>
    /// The instance metadata key under which a service publishes the blocks it holds, comma-separated hex in any order
    /// (<see cref="Affinity.PrefixBlocks.Format"/>), through <see cref="IInstanceMetadataPublisher"/>. Each update
    /// replaces the whole set.
    /// </summary>
    public const string PrefixBlocksMetadata = "prefix-blocks";
}
