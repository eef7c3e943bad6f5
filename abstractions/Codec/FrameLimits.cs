namespace Plexus;

/// <summary>Sizes above which a codec refuses a frame.</summary>
/// <param name="MaxHeaderLength">The largest header part, in bytes.</param>
/// <param name="MaxBodyLength">The largest body part, in bytes.</param>
public readonly record struct FrameLimits(int MaxHeaderLength, int MaxBodyLength)
{
    /// <summary>64 KiB headers, 16 MiB bodies.</summary>
    public static FrameLimits Default { get; } = new(64 * 1024, 16 * 1024 * 1024);
}
