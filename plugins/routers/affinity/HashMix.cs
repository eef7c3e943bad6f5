namespace Plexus.Router.Affinity;

/// <summary>64-bit hashing without allocation: keys and instance ids onto the ring.</summary>
internal static class HashMix
{
    /// <summary>The splitmix64 finaliser: every input bit flips about half of the output bits.</summary>
    public static ulong Finish(ulong x)
    {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9UL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebUL;
        x ^= x >> 31;
        return x;
    }

    /// <summary>A string's hash over its UTF-16 code units (FNV-1a, then finished); stable across processes.</summary>
    public static ulong OfString(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return Finish(hash);
    }

    /// <summary>The ring position of an instance's <paramref name="replica"/>-th point.</summary>
    public static ulong Point(InstanceId id, int replica) => Finish(id.Value ^ Finish((ulong)replica + 0x9e3779b97f4a7c15UL));
}
