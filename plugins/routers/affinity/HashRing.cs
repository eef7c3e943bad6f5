namespace Plexus.Router.Affinity;

/// <summary>
/// A consistent-hash ring over the slots of <see cref="KnownInstances"/>: each instance has a fixed number of points
/// placed by its id alone, so an instance joining or leaving moves only the keys whose next point is its own.
/// </summary>
internal sealed class HashRing
{
    private ulong[] _points = [];
    private int[] _slots = [];
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
        Version = known.Version;
    }

    /// <summary>The index of the first point at or after <paramref name="hash"/>, wrapping to 0 past the last.</summary>
    public int Find(ulong hash)
    {
        var found = Array.BinarySearch(_points, 0, _length, hash);
        if (found < 0)
        {
            found = ~found;
        }

        return found == _length ? 0 : found;
    }

    /// <summary>The slot owning point <paramref name="index"/> (taken modulo the ring's length).</summary>
    public int SlotAt(int index) => _slots[index >= _length ? index % _length : index];
}
