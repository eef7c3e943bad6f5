namespace Plexus.Hosting.Telemetry;

/// <summary>
/// An instrument and up to six tags, compared by value: the identity of one time series. Built from the
/// measurement's tag span without allocating, since tag names and values are strings that already exist.
/// </summary>
internal readonly struct MetricKey : IEquatable<MetricKey>
{
    private const int MaxTags = 6;
    private readonly KeyValuePair<string, string>[] _tags;
    private readonly int _hash;

    private MetricKey(object instrument, KeyValuePair<string, string>[] tags, int hash)
    {
        Instrument = instrument;
        _tags = tags;
        _hash = hash;
    }

    public object Instrument { get; }

    public ReadOnlySpan<KeyValuePair<string, string>> Tags => _tags;

    /// <summary>A key for a lookup: tags are copied into <paramref name="scratch"/>, which the caller owns.</summary>
    public static MetricKey ForLookup(object instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags, KeyValuePair<string, string>[] scratch, out int count)
    {
        count = Math.Min(tags.Length, MaxTags);
        var hash = instrument.GetHashCode();
        for (var i = 0; i < count; i++)
        {
            var value = tags[i].Value as string ?? tags[i].Value?.ToString() ?? string.Empty;
            scratch[i] = new KeyValuePair<string, string>(tags[i].Key, value);
            hash = HashCode.Combine(hash, tags[i].Key, value);
        }

        Array.Clear(scratch, count, scratch.Length - count);

        return new MetricKey(instrument, scratch, hash);
    }

    public static KeyValuePair<string, string>[] NewScratch() => new KeyValuePair<string, string>[MaxTags];

    /// <summary>A key that owns its tags, for storing in a dictionary.</summary>
    public MetricKey Persist(int count) => new(Instrument, _tags.AsSpan(0, count).ToArray(), _hash);

    public bool Equals(MetricKey other)
    {
        if (_hash != other._hash || !ReferenceEquals(Instrument, other.Instrument))
        {
            return false;
        }

        var a = Count(_tags);
        var b = Count(other._tags);
        if (a != b)
        {
            return false;
        }

        for (var i = 0; i < a; i++)
        {
            if (!string.Equals(_tags[i].Key, other._tags[i].Key, StringComparison.Ordinal)
                || !string.Equals(_tags[i].Value, other._tags[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is MetricKey other && Equals(other);

    public override int GetHashCode() => _hash;

    // Scratch arrays are reused and padded with default entries; a persisted key has exactly its tags.
    private static int Count(KeyValuePair<string, string>[] tags)
    {
        var n = 0;
        while (n < tags.Length && tags[n].Key is not null)
        {
            n++;
        }

        return n;
    }
}
