namespace Plexus.Transport.Quic.Connections;

/// <summary>ngtcp2's timestamps: nanoseconds on a monotonic clock, read from the injected <see cref="TimeProvider"/>.</summary>
internal static class QuicClock
{
    public static ulong Now(TimeProvider time)
    {
        var ticks = time.GetTimestamp();
        var frequency = time.TimestampFrequency;
        return frequency == 1_000_000_000 ? (ulong)ticks : (ulong)((UInt128)(ulong)ticks * 1_000_000_000 / (ulong)frequency);
    }

    public static ulong ToNanoseconds(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (ulong)span.Ticks * 100;
}
