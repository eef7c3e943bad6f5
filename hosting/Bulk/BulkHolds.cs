using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The response messages a server offered by bulk transfer and keeps until their clients have pulled them: each under
/// a random id that the client names when it releases or fetches it. One nobody asks for within
/// <c>Plexus:Bulk:HoldTimeout</c> is let go, so that a client that vanished holds nothing for long.
/// </summary>
internal sealed class BulkHolds : IDisposable
{
    private readonly ConcurrentDictionary<ulong, BulkHold> _holds = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ITimer _sweep;
    private long _expired;

    private readonly Action _expiredOne;

    public BulkHolds(TimeProvider time, TimeSpan timeout, Action expiredOne)
    {
        _expiredOne = expiredOne;
        _time = time;
        _timeout = timeout;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, timeout.Ticks / 4));
        _sweep = time.CreateTimer(static state => ((BulkHolds)state!).Sweep(), this, period, period);
    }

    /// <summary>Holds offered now.</summary>
    public int Count => _holds.Count;

    /// <summary>Holds let go because nobody asked for them in time.</summary>
    public long Expired => Interlocked.Read(ref _expired);

    /// <summary>Keeps <paramref name="hold"/> and returns the id its client names.</summary>
    public ulong Add(BulkHold hold)
    {
        hold.Expires = _time.GetTimestamp() + (long)(_timeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            var id = RandomId();
            if (_holds.TryAdd(id, hold))
            {
                return id;
            }
        }
    }

    /// <summary>Removes a hold, for its client pulled it (release) or is about to be sent it (fetch).</summary>
    public BulkHold? Take(ulong id) => _holds.TryRemove(id, out var hold) ? hold : null;

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var id in _holds.Keys)
        {
            Take(id)?.Release();
        }
    }

    private void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var (id, hold) in _holds)
        {
            if (hold.Expires <= now && _holds.TryRemove(id, out _))
            {
                Interlocked.Increment(ref _expired);
                _expiredOne();
                hold.Release();
            }
        }
    }

    // Random, so that a peer cannot name holds offered to others by counting.
    private static ulong RandomId()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }
}
