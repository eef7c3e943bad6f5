namespace Plexus.Transport.Tcp;

/// <summary>
/// A response stream whose normal end may still join its last queued DATA or MESSAGES frame (protocol version 3). The
/// writer takes the frame as it encodes it; from then on the end can no longer join that frame and travels as END.
/// </summary>
internal interface IResponseTail
{
    /// <summary>Takes frame <paramref name="sequence"/> of the stream for writing.</summary>
    /// <returns><see cref="Wire.EndStream"/> when the stream's end was folded into that frame; otherwise 0.</returns>
    byte Take(uint sequence);
}
