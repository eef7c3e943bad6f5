namespace Plexus.Transport.Tcp;

/// <summary>
/// How much credit a stream's next MESSAGES frame takes beyond what its messages need, so that the flushes after it
/// join it while it waits in the connection's queue. It starts at nothing and doubles, from 1 KiB up to a frame body,
/// each time a flush finds the frame still queued but its credit spent: only a stream that flushes faster than the
/// writer loop takes its frames holds a reserve, and a large one only while it keeps doing so. A fixed frame-sized
/// reserve let 256 streams flushing one token each hold a 16 MiB connection window between them, and every other
/// stream on the connection then waited for credit.
/// </summary>
internal struct BatchReserve
{
    /// <summary>The reserve after the first shortage.</summary>
    public const int First = 1024;

    private int _size;

    /// <summary>The reserve now, in bytes of credit.</summary>
    public readonly int Size => _size;

    /// <summary>The most credit to take for a new batch whose messages need <paramref name="wanted"/>.</summary>
    /// <param name="wanted">What the batch's first messages cost.</param>
    /// <param name="final">Whether this is the response's last flush: nothing will join the batch.</param>
    public readonly int Take(int wanted, bool final) => final ? wanted : Math.Max(wanted, _size);

    /// <summary>A flush could not join the open batch because its credit was spent.</summary>
    /// <param name="stillQueued">Whether the writer loop had not taken the batch yet: only then was the reserve too small.</param>
    /// <param name="largest">The largest reserve worth holding: a frame body.</param>
    public void RanShort(bool stillQueued, int largest)
    {
        if (stillQueued && _size < largest)
        {
            _size = Math.Min(largest, Math.Max(First, _size * 2));
        }
    }
}
