namespace Plexus.Router.Affinity;

/// <summary>What one pass over the candidates learns of their in-flight counts.</summary>
/// <param name="Total">The sum, for the load bound.</param>
/// <param name="Min">The smallest count.</param>
/// <param name="AtMin">How many candidates have it, so that the prefix strategy can pick among the least loaded without a second pass.</param>
internal readonly record struct LoadSummary(long Total, int Min, int AtMin);
