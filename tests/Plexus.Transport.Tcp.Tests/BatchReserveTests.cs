namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// The credit a stream's MESSAGES frame reserves for the flushes after it: none until a flush finds the frame still
/// queued with its credit spent, then doubling up to a frame body, and never for a frame the writer loop took first.
/// </summary>
public sealed class BatchReserveTests
{
    private const int FrameBody = 64 * 1024;

    [Fact]
    public void AStreamThatNeverRunsShort_ReservesNothingBeyondItsMessages()
    {
        var reserve = default(BatchReserve);

        Assert.Equal(48, reserve.Take(48, final: false));
        reserve.RanShort(stillQueued: false, FrameBody);
        reserve.RanShort(stillQueued: false, FrameBody);

        // The writer loop took each frame before the next flush: the reserve was never what held a message back.
        Assert.Equal(0, reserve.Size);
        Assert.Equal(48, reserve.Take(48, final: false));
    }

    [Fact]
    public void EachShortageWhileQueued_DoublesTheReserve_UpToAFrameBody()
    {
        var reserve = default(BatchReserve);
        var sizes = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            reserve.RanShort(stillQueued: true, FrameBody);
            sizes.Add(reserve.Size);
        }

        Assert.Equal([1024, 2048, 4096, 8192, 16384, 32768, 65536, 65536, 65536, 65536], sizes);
        Assert.Equal(FrameBody, reserve.Take(48, final: false));
    }

    [Fact]
    public void TheLastFlush_TakesWhatItsMessagesNeed_AndABatchLargerThanTheReserve_TakesItsOwn()
    {
        var reserve = default(BatchReserve);
        reserve.RanShort(stillQueued: true, FrameBody);

        Assert.Equal(48, reserve.Take(48, final: true));
        Assert.Equal(5000, reserve.Take(5000, final: false));
        Assert.Equal(1024, reserve.Take(48, final: false));
    }
}
