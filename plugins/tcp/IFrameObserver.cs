namespace Plexus.Transport.Tcp;

/// <summary>Hears that a frame that borrowed the caller's memory has been written or dropped.</summary>
internal interface IFrameObserver
{
    /// <summary>The frame's bytes are no longer referenced.</summary>
    /// <param name="written">Whether they reached the socket's buffer (false when the connection closed first).</param>
    void OnFrameDone(bool written);
}
