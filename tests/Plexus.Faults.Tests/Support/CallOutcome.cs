namespace Plexus.Faults.Tests.Support;

/// <summary>How one call the tests made ended.</summary>
/// <param name="Stream">A <c>generate</c> stream rather than a unary <c>echo</c>.</param>
/// <param name="StartedAt">When it started, on <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>'s clock.</param>
/// <param name="Took">How long it took to end (or to be given up as hung).</param>
/// <param name="Messages">Response messages received.</param>
/// <param name="Error">The typed error it failed with, or null.</param>
/// <param name="Untyped">Any other exception it failed with: a bug, since every failure must be a <see cref="PlexusException"/>.</param>
/// <param name="Hung">It had not ended well after its deadline.</param>
public sealed record CallOutcome(bool Stream, long StartedAt, TimeSpan Took, int Messages, PlexusException? Error, Exception? Untyped, bool Hung)
{
    public bool Succeeded => Error is null && Untyped is null && !Hung;

    /// <summary>It failed before any response arrived.</summary>
    public bool FailedBeforeFirstByte => Error is { BeforeFirstByte: true };

    public override string ToString() =>
        $"{(Stream ? "stream" : "unary")} after {Took.TotalMilliseconds:F0} ms, {Messages} messages: " +
        (Hung ? "HUNG" : Untyped is not null ? $"untyped {Untyped.GetType().Name}: {Untyped.Message}" : Error is not null ? $"{Error.Code}{(Error.BeforeFirstByte ? " before the first byte" : "")}: {Error.Message}" : "ok");
}
