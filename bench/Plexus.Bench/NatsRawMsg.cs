namespace Plexus.Bench;

/// <summary>
/// A parsed <c>MSG &lt;subject&gt; &lt;sid&gt; [reply-to] &lt;size&gt;</c> control line at the head of a
/// <see cref="NatsRawConnection"/>'s buffer; offsets count from the head.
/// </summary>
/// <param name="LineLength">The control line with its CRLF; the payload starts here.</param>
/// <param name="Sid">The subscription id.</param>
/// <param name="ReplyOffset">Where the reply subject starts.</param>
/// <param name="ReplyLength">The reply subject's length; 0 when there is none.</param>
/// <param name="Size">The payload's length, without its trailing CRLF.</param>
internal readonly record struct NatsRawMsg(int LineLength, int Sid, int ReplyOffset, int ReplyLength, int Size)
{
    /// <summary>The whole message: line, payload and the payload's CRLF.</summary>
    public int FrameLength => LineLength + Size + 2;
}
