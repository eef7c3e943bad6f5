namespace Plexus.Router.Affinity;

/// <summary>
/// A consistent-hash ring over the slots of <see cref="KnownInstances"/>: each instance has a fixed number of points
/// placed by its id alone, so an instance joining or leaving moves only the keys whose next point is its own.
/// </summary>
internal sealed class HashRing
{
    private ulong[] _points = [];
    private int[] _slots = [];
    private int[] _buckets = [];
    private int _shift = 63;
    private int _length;

    /// <summary>The <see cref="KnownInstances.Version"/> it was built for, or -1 before the first build.</summary>
    public int Version { get; private set; } = -1;

    /// <summary>How many points the ring has.</summary>
    public int Length => _length;

    /// <summary>Rebuilds the ring over every slot in use; allocates only when it grows.</summary>
    public void Build(KnownInstances known, int pointsPerInstance)
    {
        var needed = known.Count * pointsPerInstance;
        if (_points.Length < needed)
        {
            _points = new ulong[needed];
            _slots = new int[needed];
        }

        var n = 0;
        for (var slot = 0; slot < known.SlotLimit; slot++)
        {
            if (!known.InUse(slot))
            {
                continue;
            }

            var id = known.IdOf(slot);
            for (var replica = 0; replica < pointsPerInstance; replica++)
            {
                _points[n] = HashMix.Point(id, replica);
                _slots[n++] = slot;
            }
        }

        Array.Sort(_points, _slots, 0, n);
        _length = n;
        IndexBuckets();
        Version = known.Version;
    }

    /// <summary>
    /// Splits the ring into about as many buckets as points by the top bits of the hash, each bucket remembering its
    /// first point, so that a lookup reads one bucket and a point or two instead of binary-searching a ring that is
    /// larger than the cache (64,000 points of 8 bytes for 1,000 instances).
    /// </summary>
    private void IndexBuckets()
    {
        var bits = Math.Clamp(64 - ulong.LeadingZeroCount((ulong)Math.Max(_length, 1)), 1, 20);
        _shift = 64 - (int)bits;
        var count = 1 << (int)bits;
        if (_buckets.Length < count + 1)
        {
            _buckets = new int[count + 1];
        }

        var point = 0;
        for (var bucket = 0; bucket <= count; bucket++)
        {
            while (point < _length && (int)(_points[point] >> _shift) < bucket)
            {
                point++;
            }

            _buckets[bucket] = point;
        }
    }

    /// <summary>The index of the first point at or after <paramref name="hash"/>, wrapping to 0 past the last.</summary>
    public int Find(ulong hash)
    {
        var bucket = (int)(hash >> _shift);
        var found = _buckets[bucket];
        var end = _buckets[bucket + 1];
        while (found < end && _points[found] < hash)
        {
            found++;
        }

        return found == _length ? 0 : found;
    }

    /// <summary>The slot owning point <paramref name="index"/> (taken modulo the ring's length).</summary>
    public int SlotAt(int index) => _slots[index >= _length ? index % _length : index];
}
