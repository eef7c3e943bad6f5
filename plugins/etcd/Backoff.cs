namespace Plexus.Discovery.Etcd;

/// <summary>Delays between attempts to reach etcd: 200 ms doubling to 3 s, each with ±20 % jitter so nodes do not retry in step.</summary>
internal sealed class Backoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(3);

    private TimeSpan _next = Initial;

    /// <summary>The delay before the next attempt; each call doubles the one after, up to <see cref="Max"/>.</summary>
    public TimeSpan Next()
    {
        var delay = _next * (0.8 + (Random.Shared.NextDouble() * 0.4));
        _next = _next * 2 > Max ? Max : _next * 2;
        return delay;
    }

    /// <summary>Starts again from <see cref="Initial"/> after a success.</summary>
    public void Reset() => _next = Initial;
}
