using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Plexus.Codec.TwoPart.Tests;

public sealed class TwoPartCodecTests
{
    private static readonly FrameLimits Limits = FrameLimits.Default;

    [Fact]
    public void Name_is_twopart()
    {
        Assert.Equal("twopart", TwoPartFrames.Codec(false).Name);
    }

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(0, 0, true)]
    [InlineData(0, 10, false)]
    [InlineData(10, 0, true)]
    [InlineData(7, 300, false)]
    [InlineData(7, 300, true)]
    [InlineData(1024, 3 * 1024 * 1024, true)]
    public void Round_trips_a_frame(int headerLength, int bodyLength, bool checksum)
    {
        var header = TwoPartFrames.Bytes(headerLength, 1);
        var body = TwoPartFrames.Bytes(bodyLength, 2);
        var encoded = TwoPartFrames.Encode(header, body, checksum);
        Assert.Equal(TwoPartCodec.PrefixLength + headerLength + bodyLength, encoded.Length);

        var input = new ReadOnlySequence<byte>(encoded);
        Assert.True(TwoPartFrames.Codec(checksum).TryRead(ref input, Limits, out var frame));

        Assert.Equal(header, frame.Header.ToArray());
        Assert.Equal(body, frame.Body.ToArray());
        Assert.True(input.IsEmpty);
    }

    [Fact]
    public void Writes_the_documented_layout()
    {
        var header = Encoding.ASCII.GetBytes("ab");
        var body = Encoding.ASCII.GetBytes("xyz");
        var crc = Crc32C.Compute(Encoding.ASCII.GetBytes("abxyz"));

        var withChecksum = TwoPartFrames.Encode(header, body, checksum: true);
        var expected = TwoPartFrames.Prefix(2, 3, 1, crc).Concat(header).Concat(body).ToArray();
        Assert.Equal(expected, withChecksum);

        var without = TwoPartFrames.Encode(header, body, checksum: false);
        Assert.Equal(TwoPartFrames.Prefix(2, 3, 0, 0).Concat(header).Concat(body).ToArray(), without);
    }

    [Fact]
    public void Writes_a_multi_segment_body_exactly_as_a_contiguous_one()
    {
        var header = TwoPartFrames.Bytes(20, 3);
        var body = TwoPartFrames.Bytes(1000, 4);
        var segmented = Sequences.FromChunks(body.AsMemory(0, 1), body.AsMemory(1, 0), body.AsMemory(1, 499), body.AsMemory(500));
        Assert.False(segmented.IsSingleSegment);

        var output = new ArrayBufferWriter<byte>();
        TwoPartFrames.Codec(true).Write(header, segmented, output);

        Assert.Equal(TwoPartFrames.Encode(header, body, checksum: true), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Read_parts_are_slices_of_the_input_not_copies()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(5, 5), TwoPartFrames.Bytes(9, 6), checksum: false);
        var input = new ReadOnlySequence<byte>(encoded);

        Assert.True(TwoPartFrames.Codec(false).TryRead(ref input, Limits, out var frame));

        Assert.True(MemoryMarshal.TryGetArray(frame.Header.First, out var header));
        Assert.True(MemoryMarshal.TryGetArray(frame.Body.First, out var body));
        Assert.Same(encoded, header.Array);
        Assert.Same(encoded, body.Array);
        Assert.Equal(TwoPartCodec.PrefixLength, header.Offset);
        Assert.Equal(TwoPartCodec.PrefixLength + 5, body.Offset);
    }

    [Fact]
    public void Reads_several_frames_from_one_buffer_in_order()
    {
        var (buffer, frames) = ThreeFrames();
        var input = new ReadOnlySequence<byte>(buffer);

        AssertReadsAll(ref input, frames);
    }

    [Fact]
    public void Reads_the_same_frames_when_the_buffer_is_split_in_two_at_every_byte()
    {
        var (buffer, frames) = ThreeFrames();
        for (var split = 0; split <= buffer.Length; split++)
        {
            var input = Sequences.SplitAt(buffer, split);
            AssertReadsAll(ref input, frames);
        }
    }

    [Fact]
    public void Reads_the_same_frames_when_every_byte_is_its_own_segment()
    {
        var (buffer, frames) = ThreeFrames();
        var input = Sequences.OneSegmentPerByte(buffer);

        AssertReadsAll(ref input, frames);
    }

    [Fact]
    public void Reads_frames_as_bytes_arrive_one_at_a_time()
    {
        var (buffer, frames) = ThreeFrames();
        var codec = TwoPartFrames.Codec(false);
        var consumed = 0;
        var read = 0;

        // Model a receive loop: after each new byte, read every complete frame and keep the rest for next time.
        for (var received = 0; received <= buffer.Length; received++)
        {
            var input = Sequences.SplitAt(buffer.AsSpan(consumed, received - consumed).ToArray(), (received - consumed) / 2);
            while (codec.TryRead(ref input, Limits, out var frame))
            {
                Assert.Equal(frames[read].Header, frame.Header.ToArray());
                Assert.Equal(frames[read].Body, frame.Body.ToArray());
                read++;
                consumed = received - (int)input.Length;
            }
        }

        Assert.Equal(frames.Length, read);
        Assert.Equal(buffer.Length, consumed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_truncated_frame_returns_false_and_consumes_nothing(bool checksum)
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(6, 7), TwoPartFrames.Bytes(11, 8), checksum);
        var codec = TwoPartFrames.Codec(checksum);

        for (var length = 0; length < encoded.Length; length++)
        {
            var original = Sequences.SplitAt(encoded.AsSpan(0, length).ToArray(), length / 3);
            var input = original;

            Assert.False(codec.TryRead(ref input, Limits, out var frame));

            Assert.Equal(original.Start, input.Start);
            Assert.Equal(original.End, input.End);
            Assert.True(frame.Header.IsEmpty);
            Assert.True(frame.Body.IsEmpty);
        }
    }

    [Fact]
    public void Parts_exactly_at_the_limits_are_accepted()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(10, 9), TwoPartFrames.Bytes(20, 10), checksum: false);
        var input = new ReadOnlySequence<byte>(encoded);

        Assert.True(TwoPartFrames.Codec(false).TryRead(ref input, new FrameLimits(10, 20), out _));
    }

    [Fact]
    public void A_header_one_byte_over_the_limit_is_refused_naming_the_limit()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(11, 9), TwoPartFrames.Bytes(20, 10), checksum: false);
        var input = new ReadOnlySequence<byte>(encoded);

        var error = Assert.Throws<PlexusException>(() => TwoPartFrames.Codec(false).TryRead(ref input, new FrameLimits(10, 20), out _));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("header is 11 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("limit of 10 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxHeaderLength", error.Message, StringComparison.Ordinal);
        Assert.Equal(encoded.Length, input.Length);
    }

    [Fact]
    public void A_body_one_byte_over_the_limit_is_refused_naming_the_limit()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(10, 9), TwoPartFrames.Bytes(21, 10), checksum: false);
        var input = new ReadOnlySequence<byte>(encoded);

        var error = Assert.Throws<PlexusException>(() => TwoPartFrames.Codec(false).TryRead(ref input, new FrameLimits(10, 20), out _));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("body is 21 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxBodyLength", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x8000_0000u, 0u)]
    [InlineData(0u, 0x8000_0000u)]
    [InlineData(0u, 0xFFFF_FFFFu)]
    [InlineData(0xFFFF_FFFFu, 0xFFFF_FFFFu)]
    public void A_huge_declared_length_is_refused_from_the_prefix_alone_without_allocating(uint headerLength, uint bodyLength)
    {
        var prefix = TwoPartFrames.Prefix(headerLength, bodyLength, 0, 0);
        var codec = TwoPartFrames.Codec(false);
        var limits = new FrameLimits(1024 * 1024, 1024 * 1024);

        // Once first so the measured call pays for no first-use costs.
        Assert.Throws<PlexusException>(() => Read(codec, prefix, limits));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<PlexusException>(() => Read(codec, prefix, limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains((headerLength != 0 ? headerLength : bodyLength).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("limit of 1048576 bytes", error.Message, StringComparison.Ordinal);

        // The exception and its message cost a few kilobytes; a buffer for the declared frame would be at least a mebibyte.
        Assert.InRange(allocated, 0, 64 * 1024);
    }

    [Fact]
    public void A_corrupted_byte_anywhere_in_header_body_or_crc_is_a_checksum_mismatch()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(8, 11), TwoPartFrames.Bytes(24, 12), checksum: true);
        var codec = TwoPartFrames.Codec(true);

        // Bytes 12..15 are the CRC field; from 16 on, header then body. The length and flag fields are covered elsewhere.
        for (var index = 12; index < encoded.Length; index++)
        {
            var corrupted = (byte[])encoded.Clone();
            corrupted[index] ^= 0x20;

            var error = Assert.Throws<PlexusException>(() => Read(codec, corrupted, Limits));

            Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
            Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_checksum_mismatch_names_the_expected_and_actual_crc()
    {
        var header = TwoPartFrames.Bytes(3, 13);
        var body = TwoPartFrames.Bytes(5, 14);
        var actual = Crc32C.Append(Crc32C.Compute(header), body);
        var frame = TwoPartFrames.Prefix(3, 5, TwoPartCodec.ChecksumFlag, 0xDEADBEEF).Concat(header).Concat(body).ToArray();

        var error = Assert.Throws<PlexusException>(() => Read(TwoPartFrames.Codec(false), frame, Limits));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("0xdeadbeef", error.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{actual:x8}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reader_without_checksum_configured_still_verifies_a_frame_that_carries_one()
    {
        var encoded = TwoPartFrames.Encode(TwoPartFrames.Bytes(4, 15), TwoPartFrames.Bytes(4, 16), checksum: true);
        var input = new ReadOnlySequence<byte>(encoded);
        Assert.True(TwoPartFrames.Codec(false).TryRead(ref input, Limits, out _));

        encoded[^1] ^= 1;
        var error = Assert.Throws<PlexusException>(() => Read(TwoPartFrames.Codec(false), encoded, Limits));
        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
    }

    [Theory]
    [InlineData(0x0000_0002u)]
    [InlineData(0x0000_0003u)]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Unknown_flags_are_a_protocol_error_naming_them(uint flags)
    {
        var frame = TwoPartFrames.Prefix(0, 0, flags, 0);

        var error = Assert.Throws<PlexusException>(() => Read(TwoPartFrames.Codec(false), frame, Limits));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("unknown flags", error.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{flags & ~TwoPartCodec.KnownFlags:x8}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_flags_are_refused_before_the_rest_of_the_frame_arrives()
    {
        var prefixOnly = TwoPartFrames.Prefix(100, 100, 0x4, 0);

        var error = Assert.Throws<PlexusException>(() => Read(TwoPartFrames.Codec(false), prefixOnly, Limits));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
    }

    [Fact]
    public void A_crc_without_the_checksum_flag_is_a_protocol_error()
    {
        var frame = TwoPartFrames.Prefix(0, 0, 0, 0x1234);

        var error = Assert.Throws<PlexusException>(() => Read(TwoPartFrames.Codec(false), frame, Limits));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains("0x00001234", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_read_leaves_the_input_where_it_was()
    {
        var frame = TwoPartFrames.Prefix(0, 0, 0x2, 0);
        var input = new ReadOnlySequence<byte>(frame);

        Assert.Throws<PlexusException>(() => TwoPartFrames.Codec(false).TryRead(ref input, Limits, out _));

        Assert.Equal(frame.Length, input.Length);
    }

    private static bool Read(TwoPartCodec codec, byte[] bytes, FrameLimits limits)
    {
        var input = new ReadOnlySequence<byte>(bytes);
        return codec.TryRead(ref input, limits, out _);
    }

    private static (byte[] Buffer, (byte[] Header, byte[] Body)[] Frames) ThreeFrames()
    {
        (byte[] Header, byte[] Body)[] frames =
        [
            (TwoPartFrames.Bytes(3, 21), TwoPartFrames.Bytes(5, 22)),
            (Array.Empty<byte>(), Array.Empty<byte>()),
            (TwoPartFrames.Bytes(1, 23), TwoPartFrames.Bytes(9, 24)),
        ];

        // Mixed: the reader must handle checksummed and plain frames in one stream.
        var buffer = TwoPartFrames.Encode(frames[0].Header, frames[0].Body, checksum: true)
            .Concat(TwoPartFrames.Encode(frames[1].Header, frames[1].Body, checksum: false))
            .Concat(TwoPartFrames.Encode(frames[2].Header, frames[2].Body, checksum: true))
            .ToArray();
        return (buffer, frames);
    }

    private static void AssertReadsAll(ref ReadOnlySequence<byte> input, (byte[] Header, byte[] Body)[] frames)
    {
        var codec = TwoPartFrames.Codec(false);
        foreach (var (header, body) in frames)
        {
            Assert.True(codec.TryRead(ref input, Limits, out var frame));
            Assert.Equal(header, frame.Header.ToArray());
            Assert.Equal(body, frame.Body.ToArray());
        }

        Assert.True(input.IsEmpty);
        Assert.False(codec.TryRead(ref input, Limits, out _));
    }
}
