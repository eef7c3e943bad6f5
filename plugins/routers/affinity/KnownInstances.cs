namespace Plexus.Router.Affinity;

/// <summary>
/// The instances of one endpoint a strategy has seen, each in a stable slot, and where each sits in the current
/// candidate list. Candidates are only the instances available for this request (busy, unhealthy or already tried ones
/// are left out), so the list changes from call to call; slots change only when an instance appears or has been
/// missing for <see cref="AffinityRouterOptions.DropAfter"/>. The ring and the prefix index are built over slots,
/// so a request that leaves one instance out rebuilds neither. Not thread-safe: the owner locks.
/// </summary>
internal sealed class KnownInstances
{
    private const long Present = long.MinValue;
    private readonly Dictionary<InstanceId, int> _slotOf = [];
    private readonly Stack<int> _free = new();
    private readonly List<int> _changed = [];
    private readonly List<int> _dropped = [];
    private InstanceId[] _ids = new InstanceId[8];
    private Instance?[] _instanceOf = new Instance?[8];
    private long[] _missingSince = new long[8];
    private int[] _candidateOf = new int[8];
    private Instance[] _seen = [];
    private int _seenCount;
    private int _missing;
    private long _nextSweep;

    /// <summary>Bumped whenever a slot is taken or freed: what a ring built over the slots checks.</summary>
    public int Version { get; private set; }

    /// <summary>Slots in use.</summary>
    public int Count => _slotOf.Count;

    /// <summary>One past the highest slot number that may be in use.</summary>
    public int SlotLimit => _ids.Length;

    /// <summary>Candidate positions whose instance is new or changed (new metadata) since the last refresh.</summary>
    public List<int> Changed => _changed;

    /// <summary>Slots freed by the last refresh; their index entries must go.</summary>
    public List<int> Dropped => _dropped;

    /// <summary>Whether <paramref name="slot"/> holds an instance.</summary>
    public bool InUse(int slot) => _instanceOf[slot] is not null;

    /// <summary>The instance id in <paramref name="slot"/>.</summary>
    public InstanceId IdOf(int slot) => _ids[slot];

    /// <summary>The position of <paramref name="slot"/>'s instance among the current candidates, or -1.</summary>
    public int CandidateOf(int slot) => _candidateOf[slot];

    /// <summary>The slot of the candidate at <paramref name="position"/> in the last refresh.</summary>
    public int SlotOf(int position) => _slotOf[_seen[position].Id];

    /// <summary>The instance last seen in <paramref name="slot"/>.</summary>
    public Instance? InstanceOf(int slot) => _instanceOf[slot];

    /// <summary>
    /// Brings the slots up to date with <paramref name="candidates"/> and returns what it saw of their in-flight counts.
    /// The common case, the same instances in the same order as last time, costs one reference comparison each.
    /// </summary>
    /// <param name="candidates">This request's candidates.</param>
    /// <param name="time">The clock for absences.</param>
    /// <param name="dropAfter">How long an absent instance keeps its slot.</param>
    /// <param name="withMin">Whether the smallest in-flight count is wanted; the affinity strategy needs only the total.</param>
    public LoadSummary Refresh(ReadOnlySpan<RouteCandidate> candidates, TimeProvider time, TimeSpan dropAfter, bool withMin = true)
    {
        _changed.Clear();
        _dropped.Clear();
        LoadSummary load;
        if (candidates.Length != _seenCount || !(withMin ? TrySame(candidates, out load) : TrySameTotal(candidates, out load)))
        {
            load = Rebind(candidates, time);
        }

        if (_missing > 0)
        {
            var now = time.GetTimestamp();
            if (now >= _nextSweep)
            {
                Sweep(now, time, dropAfter);
            }
        }

        return load;
    }

    /// <summary>The fast path: the same instances (by reference) in the same order as last time.</summary>
    private bool TrySame(ReadOnlySpan<RouteCandidate> candidates, out LoadSummary load)
    {
        var seen = _seen.AsSpan(0, candidates.Length);
        long total = 0;
        int min = int.MaxValue, atMin = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            ref readonly var candidate = ref candidates[i];
            if (!ReferenceEquals(candidate.Instance, seen[i]))
            {
                load = default;
                return false;
            }

            var inFlight = candidate.InFlight;
            total += inFlight;
            if (inFlight < min)
            {
                min = inFlight;
                atMin = 1;
            }
            else if (inFlight == min)
            {
                atMin++;
            }
        }

        load = new LoadSummary(total, min, atMin);
        return true;
    }

    /// <summary>The fast path without the minimum: one reference comparison and one addition per candidate.</summary>
    private bool TrySameTotal(ReadOnlySpan<RouteCandidate> candidates, out LoadSummary load)
    {
        var seen = _seen.AsSpan(0, candidates.Length);
        long total = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            ref readonly var candidate = ref candidates[i];
            if (!ReferenceEquals(candidate.Instance, seen[i]))
            {
                load = default;
                return false;
            }

            total += candidate.InFlight;
        }

        load = new LoadSummary(total, 0, 0);
        return true;
    }

    private LoadSummary Rebind(ReadOnlySpan<RouteCandidate> candidates, TimeProvider time)
    {
        if (_seen.Length < candidates.Length)
        {
            _seen = new Instance[Math.Max(candidates.Length, _seen.Length * 2)];
        }

        Array.Fill(_candidateOf, -1);
        long total = 0;
        int min = int.MaxValue, atMin = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var instance = candidates[i].Instance;
            var inFlight = candidates[i].InFlight;
            total += inFlight;
            if (inFlight < min)
            {
                min = inFlight;
                atMin = 1;
            }
            else if (inFlight == min)
            {
                atMin++;
            }

            _seen[i] = instance;
            if (!_slotOf.TryGetValue(instance.Id, out var slot))
            {
                slot = Take(instance.Id);
                _changed.Add(i);
            }
            else if (_candidateOf[slot] >= 0)
            {
                // The same id twice in one list (discovery answered twice): the first stays the candidate.
                continue;
            }
            else if (!ReferenceEquals(_instanceOf[slot], instance))
            {
                _changed.Add(i);
            }

            _instanceOf[slot] = instance;
            _candidateOf[slot] = i;
            _missingSince[slot] = Present;
        }

        _seenCount = candidates.Length;
        _missing = 0;
        var now = time.GetTimestamp();
        for (var slot = 0; slot < _ids.Length; slot++)
        {
            if (_instanceOf[slot] is not null && _candidateOf[slot] < 0)
            {
                _missing++;
                if (_missingSince[slot] == Present)
                {
                    _missingSince[slot] = now;
                }
            }
        }

        return new LoadSummary(total, min, atMin);
    }

    private void Sweep(long now, TimeProvider time, TimeSpan dropAfter)
    {
        var next = long.MaxValue;
        for (var slot = 0; slot < _ids.Length; slot++)
        {
            if (_instanceOf[slot] is null || _candidateOf[slot] >= 0)
            {
                continue;
            }

            if (time.GetElapsedTime(_missingSince[slot], now) >= dropAfter)
            {
                _slotOf.Remove(_ids[slot]);
                _instanceOf[slot] = null;
                _missingSince[slot] = Present;
                _free.Push(slot);
                _dropped.Add(slot);
                _missing--;
                Version++;
            }
            else
            {
                next = Math.Min(next, _missingSince[slot] + (long)(dropAfter.TotalSeconds * time.TimestampFrequency));
            }
        }

        _nextSweep = next;
    }

    private int Take(InstanceId id)
    {
        if (!_free.TryPop(out var slot))
        {
            slot = _slotOf.Count;
            if (slot == _ids.Length)
            {
                var size = _ids.Length * 2;
                Array.Resize(ref _ids, size);
                Array.Resize(ref _instanceOf, size);
                Array.Resize(ref _missingSince, size);
                var from = _candidateOf.Length;
                Array.Resize(ref _candidateOf, size);
                Array.Fill(_candidateOf, -1, from, size - from);
            }
        }

        _ids[slot] = id;
        _slotOf[id] = slot;
        _missingSince[slot] = Present;
        Version++;
        return slot;
    }
}
