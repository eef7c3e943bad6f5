namespace Plexus.Bench;

/// <summary>The bytes sent by every subject, allocated once per process so that no measurement pays for them.</summary>
internal static class BenchPayloads
{
    private static readonly Lazy<byte[]> LazyBulk = new(() => Pattern(BenchSizes.BulkBytes, 7), LazyThreadSafetyMode.ExecutionAndPublication);

    public static ReadOnlyMemory<byte> UnaryRequest { get; } = Pattern(BenchSizes.UnaryRequestBytes, 1);

    public static ReadOnlyMemory<byte> UnaryResponse { get; } = Pattern(BenchSizes.UnaryResponseBytes, 3);

    /// <summary>64 MiB, created on first use: a run without the bulk scenario never allocates it.</summary>
    public static ReadOnlyMemory<byte> Bulk => LazyBulk.Value;

    // Non-zero content, so that nothing on the way can take a shortcut over zero pages.
    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }
}
