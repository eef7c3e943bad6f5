namespace Plexus.Hosting.Bulk;

/// <summary>
/// One offered response message: its region's descriptor and the message's length (the first bytes of the region),
/// the local buffer holding its bytes when the core copied them there (null when a handler offered a region of its
/// own), and what to do when it may be let go.
/// </summary>
internal sealed class BulkHold(BulkDescriptor descriptor, long length, IBulkBuffer? buffer, Action release)
{
    private int _released;

    public BulkDescriptor Descriptor { get; } = descriptor;

    public long Length { get; } = length;

    public IBulkBuffer? Buffer { get; } = buffer;

    /// <summary>When the hold expires, on <see cref="TimeProvider.GetTimestamp"/>'s scale.</summary>
    public long Expires { get; set; }

    /// <summary>Lets the bytes go, once; never throws.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        try
        {
            release();
        }
        catch (Exception)
        {
            // A handler's callback that fails must not take the expiry sweep or the request with it.
        }
    }
}
