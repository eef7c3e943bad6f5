namespace Plexus.Transport.Tcp;

/// <summary>
/// A rented array that holds many small response messages of one stream back to back, so that a message costs a copy
/// into it rather than an array of its own. It counts the messages in it that the caller has not moved past; once
/// none are left it is reused or returned. Guarded by its stream's lock.
/// </summary>
internal sealed class MessageBlock
{
    public MessageBlock(byte[] array)
    {
        Array = array;
    }

    /// <summary>The rented array.</summary>
    public byte[] Array { get; }

    /// <summary>How many of its bytes hold messages.</summary>
    public int Used { get; set; }

    /// <summary>Messages in it that are queued or being read.</summary>
    public int Messages { get; set; }
}
