namespace Plexus.Abstractions.Tests;

public sealed class PlexusExceptionTests
{
    [Fact]
    public void Error_codes_keep_their_wire_values()
    {
        Assert.Equal(1, (int)PlexusErrorCode.Unavailable);
        Assert.Equal(2, (int)PlexusErrorCode.Overloaded);
        Assert.Equal(3, (int)PlexusErrorCode.Timeout);
        Assert.Equal(4, (int)PlexusErrorCode.Cancelled);
        Assert.Equal(5, (int)PlexusErrorCode.HandlerError);
        Assert.Equal(6, (int)PlexusErrorCode.ProtocolError);
        Assert.Equal(7, (int)PlexusErrorCode.PayloadTooLarge);
    }

    [Fact]
    public void Unavailable_carries_its_code_message_and_cause()
    {
        var cause = new IOException("connection reset");

        var error = PlexusException.Unavailable("peer went away", cause);

        Assert.Equal(PlexusErrorCode.Unavailable, error.Code);
        Assert.Equal("peer went away", error.Message);
        Assert.Same(cause, error.InnerException);
        Assert.False(error.BeforeFirstByte);
    }

    [Fact]
    public void Protocol_carries_its_code()
    {
        var error = PlexusException.Protocol("bad frame");

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Equal("bad frame", error.Message);
    }

    [Fact]
    public void TooLarge_says_what_how_big_the_limit_and_what_to_raise()
    {
        var error = PlexusException.TooLarge("request payload", 20_000_000, 16_777_216, "Plexus:RequestPlane:MaxPayloadBytes");

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Equal(
            "The request payload is 20000000 bytes, over the limit of 16777216 bytes; send less or raise Plexus:RequestPlane:MaxPayloadBytes.",
            error.Message);
    }

    [Fact]
    public void BeforeFirstByte_is_set_at_construction()
    {
        var error = new PlexusException(PlexusErrorCode.Unavailable, "refused") { BeforeFirstByte = true };

        Assert.True(error.BeforeFirstByte);
    }

    [Fact]
    public void ToString_starts_with_the_code()
    {
        var text = new PlexusException(PlexusErrorCode.Overloaded, "all busy").ToString();

        Assert.StartsWith("Overloaded: ", text, StringComparison.Ordinal);
        Assert.Contains("all busy", text, StringComparison.Ordinal);
    }
}
