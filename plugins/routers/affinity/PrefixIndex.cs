namespace Plexus.Router.Affinity;

/// <summary>
/// Which instance (slot of <see cref="KnownInstances"/>) holds which block, for one endpoint: a hash map from block
/// hash to holders, and each holder's set. It is fed from the instances' published metadata, a whole set at a time, so
/// a lost or late update only leaves an older set in place until the next one arrives: routing quality suffers, never
/// correctness, since a request sent to an instance that no longer holds its blocks is still served. Not thread-safe.
/// </summary>
internal sealed class PrefixIndex(RoutingMetrics metrics)
{
    private readonly Dictionary<ulong, List<int>> _holders = [];
    private HashSet<ulong>?[] _blocksOf = new HashSet<ulong>?[8];
    private string?[] _published = new string?[8];
    private ulong[] _parsed = new ulong[64];

    /// <summary>Distinct blocks held by any instance.</summary>
    public int Blocks => _holders.Count;

    /// <summary>The holders of <paramref name="block"/>, or null.</summary>
    public List<int>? HoldersOf(ulong block) => _holders.GetValueOrDefault(block);

    /// <summary>Whether <paramref name="slot"/> holds <paramref name="block"/>.</summary>
    public bool Holds(int slot, ulong block) => slot < _blocksOf.Length && _blocksOf[slot] is { } blocks && blocks.Contains(block);

    /// <summary>How many blocks <paramref name="slot"/> holds.</summary>
    public int BlocksOf(int slot) => slot < _blocksOf.Length && _blocksOf[slot] is { } blocks ? blocks.Count : 0;

    /// <summary>
    /// Replaces what <paramref name="slot"/> holds by the set in its metadata; a value identical to the last one read is
    /// not read again. Returns false when the value had a malformed entry (what came before it is kept).
    /// </summary>
    public bool Update(int slot, IReadOnlyDictionary<string, string> metadata)
    {
        Grow(slot);
        var value = metadata.GetValueOrDefault(AffinityHeaders.PrefixBlocksMetadata);
        if (string.Equals(value, _published[slot], StringComparison.Ordinal))
        {
            return true;
        }

        _published[slot] = value;
        var count = 0;
        var malformed = false;
        if (value is not null)
        {
            var entries = value.AsSpan().Count(',') + 1;
            if (_parsed.Length < entries)
            {
                _parsed = new ulong[Math.Max(entries, _parsed.Length * 2)];
            }

            count = PrefixBlocks.Parse(value, _parsed, out malformed);
        }

        var old = _blocksOf[slot];
        var fresh = new HashSet<ulong>(count);
        for (var i = 0; i < count; i++)
        {
            fresh.Add(_parsed[i]);
        }

        long blocksDelta = 0;
        if (old is not null)
        {
            foreach (var block in old)
            {
                if (!fresh.Contains(block))
                {
                    blocksDelta -= Unhold(block, slot);
                }
            }
        }

        foreach (var block in fresh)
        {
            if (old is null || !old.Contains(block))
            {
                blocksDelta += Hold(block, slot);
            }
        }

        var wasHolder = old is { Count: > 0 };
        _blocksOf[slot] = fresh.Count > 0 ? fresh : null;
        metrics.IndexChanged(blocksDelta, (fresh.Count > 0 ? 1 : 0) - (wasHolder ? 1 : 0));
        return !malformed;
    }

    /// <summary>Forgets everything <paramref name="slot"/> held: its instance vanished.</summary>
    public void Drop(int slot)
    {
        if (slot >= _blocksOf.Length)
        {
            return;
        }

        _published[slot] = null;
        if (_blocksOf[slot] is not { } old)
        {
            return;
        }

        long blocksDelta = 0;
        foreach (var block in old)
        {
            blocksDelta -= Unhold(block, slot);
        }

        _blocksOf[slot] = null;
        metrics.IndexChanged(blocksDelta, -1);
    }

    /// <summary>Adds a holder; returns 1 when the block is new to the index.</summary>
    private int Hold(ulong block, int slot)
    {
        if (_holders.TryGetValue(block, out var holders))
        {
            holders.Add(slot);
            return 0;
        }

        _holders[block] = [slot];
        return 1;
    }

    /// <summary>Removes a holder; returns 1 when the block left the index.</summary>
    private int Unhold(ulong block, int slot)
    {
        if (!_holders.TryGetValue(block, out var holders))
        {
            return 0;
        }

        holders.Remove(slot);
        if (holders.Count > 0)
        {
            return 0;
        }

        _holders.Remove(block);
        return 1;
    }

    private void Grow(int slot)
    {
        if (slot >= _blocksOf.Length)
        {
            var size = Math.Max(slot + 1, _blocksOf.Length * 2);
            Array.Resize(ref _blocksOf, size);
            Array.Resize(ref _published, size);
        }
    }
}
