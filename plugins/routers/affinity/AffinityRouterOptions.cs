namespace Plexus.Router.Affinity;

/// <summary>The settings of both strategies, under <c>Plexus:Routers:Affinity</c>.</summary>
internal sealed class AffinityRouterOptions
{
    public const string SectionName = "Plexus:Routers:Affinity";

    /// <summary>
    /// ε of consistent hashing with bounded loads: an instance is skipped while its in-flight count is at or above
    /// ⌈(1 + ε) × (in flight + 1) / instances⌉. Smaller keeps load flatter and moves more keys under load.
    /// </summary>
    public double LoadBound { get; set; } = 0.25;

    /// <summary>Points per instance on the hash ring; more spreads keys more evenly at the cost of a larger ring.</summary>
    public int VirtualNodes { get; set; } = 64;

    /// <summary>Prefix strategy: what one block of overlap is worth.</summary>
    public double OverlapWeight { get; set; } = 1.0;

    /// <summary>Prefix strategy: what one request in flight costs.</summary>
    public double LoadWeight { get; set; } = 1.0;

    /// <summary>Prefix strategy: the most block hashes read from one request's header; the rest are ignored.</summary>
    public int MaxRequestBlocks { get; set; } = 1024;

    /// <summary>
    /// How long an instance may be missing from the candidates before its ring points and index entries are dropped.
    /// A short absence (busy, being retried elsewhere) keeps them; an instance that left discovery goes after this.
    /// </summary>
    public TimeSpan DropAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem, each naming its key; empty when the options are usable.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!double.IsFinite(LoadBound) || LoadBound <= 0 || LoadBound > 100)
        {
            errors.Add($"{SectionName}:LoadBound must be a number above 0 and at most 100 (ε of the bounded-load rule); it is {LoadBound}.");
        }

        if (VirtualNodes is < 1 or > 4096)
        {
            errors.Add($"{SectionName}:VirtualNodes must be between 1 and 4096; it is {VirtualNodes}.");
        }

        if (!double.IsFinite(OverlapWeight) || OverlapWeight < 0)
        {
            errors.Add($"{SectionName}:OverlapWeight must be a finite number, 0 or more; it is {OverlapWeight}.");
        }

        if (!double.IsFinite(LoadWeight) || LoadWeight < 0)
        {
            errors.Add($"{SectionName}:LoadWeight must be a finite number, 0 or more; it is {LoadWeight}.");
        }

        if (MaxRequestBlocks is < 1 or > 65536)
        {
            errors.Add($"{SectionName}:MaxRequestBlocks must be between 1 and 65536; it is {MaxRequestBlocks}.");
        }

        if (DropAfter <= TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:DropAfter must be above 0, such as 30s; it is {DropAfter}.");
        }

        return errors;
    }
}
