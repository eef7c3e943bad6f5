namespace Plexus.Transport.Tcp;

/// <summary>
/// A rented array that holds small response messages of one stream back to back, each as a 4-byte length and its
/// bytes, so a message costs a copy into it rather than an array and a queue entry of its own. Messages form runs
/// (a run is queued once, and ends with <see cref="EndOfRun"/> when a large message follows or the block is full);
/// the block counts its runs the caller has not finished and is reused or returned once none are left. Guarded by
/// its stream's lock, except that the caller reads on in the run it is in without the lock, up to <see cref="Used"/>:
/// the reader loop writes a message's bytes before it publishes the new end, and never moves a run the caller is in.
/// </summary>
internal sealed class MessageBlock
{
    /// <summary>The length that marks the end of a run.</summary>
    public const int EndOfRun = -1;

    /// <summary>The bytes each message takes on top of its own: its length.</summary>
    public const int PrefixBytes = sizeof(int);

    public MessageBlock(byte[] array)
    {
        Array = array;
    }

    /// <summary>The rented array.</summary>
    public byte[] Array { get; }

    private int _used;

    /// <summary>How many of its bytes are written; published after the bytes themselves.</summary>
    public int Used
    {
        get => Volatile.Read(ref _used);
        set => Volatile.Write(ref _used, value);
    }

    /// <summary>Runs in it that the caller has not finished reading.</summary>
    public int Runs { get; set; }
}
