using System.Buffers;
using Plexus.Hosting.Bulk;

namespace Plexus.Host.Tests.Bulk;

/// <summary>The bytes of a large response message set aside: every byte comes back in order, whatever sizes the writer asked for.</summary>
public sealed class SpillBufferTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(3 << 20)]
    public void Bytes_written_across_chunks_come_back_in_order(int hint)
    {
        var expected = new byte[(5 << 20) + 123];
        new Random(7).NextBytes(expected);
        using var spill = new SpillBuffer();

        var written = 0;
        while (written < expected.Length)
        {
            var span = spill.GetSpan(hint);
            var count = Math.Min(span.Length, Math.Min(expected.Length - written, 300_000));
            expected.AsSpan(written, count).CopyTo(span);
            spill.Advance(count);
            written += count;
        }

        var copied = new byte[spill.Length];
        spill.CopyTo(copied);
        var writer = new ArrayBufferWriter<byte>();
        spill.WriteTo(writer);

        Assert.Equal(expected.Length, spill.Length);
        Assert.True(copied.AsSpan().SequenceEqual(expected));
        Assert.True(writer.WrittenSpan.SequenceEqual(expected));
    }

    [Fact]
    public void Advancing_past_the_memory_handed_out_is_refused()
    {
        using var spill = new SpillBuffer();
        var length = spill.GetSpan(10).Length;

        Assert.Throws<InvalidOperationException>(() => spill.Advance(length + 1));
    }
}
