namespace Plexus.Bench;

/// <summary>The sizes every subject uses, so that the figures of the transport and of the baselines compare.</summary>
internal static class BenchSizes
{
    public const int UnaryRequestBytes = 64;

    public const int UnaryResponseBytes = 64;

    public const int StreamMessages = 100_000;

    public const int StreamMessageBytes = 16;

    public const int BulkBytes = 64 * 1024 * 1024;

    /// <summary>The bulk acknowledgement: the byte count the server received, 8 bytes little-endian.</summary>
    public const int BulkAckBytes = sizeof(long);
}
