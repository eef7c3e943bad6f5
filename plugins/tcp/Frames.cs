using System.Buffers;
using System.Text;

namespace Plexus.Transport.Tcp;

/// <summary>Builds the frames that carry text: ERROR and GOAWAY.</summary>
internal static class Frames
{
    /// <summary>An ERROR frame for <paramref name="error"/>.</summary>
    public static OutgoingFrame Error(uint streamId, PlexusException error) =>
        new(FrameType.Error, error.BeforeFirstByte ? Wire.BeforeFirstByte : (byte)0, streamId, (byte)error.Code)
        {
            Body = Text(error.Message),
        };

    /// <summary>A GOAWAY frame.</summary>
    public static OutgoingFrame GoAway(uint lastStreamId, string reason) =>
        new(FrameType.GoAway, 0, lastStreamId, (byte)PlexusErrorCode.Unavailable) { Body = Text(reason) };

    /// <summary>The <see cref="PlexusException"/> an ERROR frame describes.</summary>
    public static PlexusException ReadError(in FrameHeader header, in ReadOnlySequence<byte> body)
    {
        var message = body.IsEmpty ? "(no message)" : Encoding.UTF8.GetString(body);
        var code = (PlexusErrorCode)header.Code;
        if (!Enum.IsDefined(code))
        {
            return new PlexusException(PlexusErrorCode.ProtocolError, $"The server answered with unknown error code {header.Code}: {message}");
        }

        return new PlexusException(code, message) { BeforeFirstByte = (header.Flags & Wire.BeforeFirstByte) != 0 };
    }

    private static ReadOnlySequence<byte> Text(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        return new ReadOnlySequence<byte>(bytes, 0, Math.Min(bytes.Length, Wire.MaxMessageBytes));
    }
}
