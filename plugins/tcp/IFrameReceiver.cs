using System.Buffers;

namespace Plexus.Transport.Tcp;

/// <summary>The role-specific side of a connection: what the server or client does with the frames of its streams.</summary>
internal interface IFrameReceiver
{
    /// <summary>Handles one frame of a stream (or a GOAWAY); called on the connection's reader loop, one at a time.</summary>
    /// <exception cref="PlexusException">The frame breaks the protocol; the connection closes.</exception>
    void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> rawHeader, in ReadOnlySequence<byte> body);

    /// <summary>Every complete frame of one read from the socket has been handed over; called on the reader loop.</summary>
    void OnReadComplete();

    /// <summary>The connection closed; every stream on it must end.</summary>
    /// <param name="error">Why, as in-flight requests should fail.</param>
    void OnClosed(PlexusException error);
}
