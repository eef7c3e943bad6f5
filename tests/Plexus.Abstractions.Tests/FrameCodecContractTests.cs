using System.Buffers;
using Plexus.Abstractions.Tests.Toys;

namespace Plexus.Abstractions.Tests;

public sealed class FrameCodecContractTests
{
    private readonly IFrameCodec _codec = new LengthPrefixCodec();

    [Fact]
    public void A_frame_round_trips_and_its_parts_are_slices_of_the_input()
    {
        var output = new ArrayBufferWriter<byte>();
        _codec.Write("head"u8, new ReadOnlySequence<byte>("body!"u8.ToArray()), output);
        _codec.Write(ReadOnlySpan<byte>.Empty, ReadOnlySequence<byte>.Empty, output);
        var bytes = output.WrittenMemory;
        var input = new ReadOnlySequence<byte>(bytes);

        Assert.True(_codec.TryRead(ref input, FrameLimits.Default, out var first));
        Assert.True(_codec.TryRead(ref input, FrameLimits.Default, out var second));

        Assert.Equal("head"u8.ToArray(), first.Header.ToArray());
        Assert.Equal("body!"u8.ToArray(), first.Body.ToArray());
        Assert.True(second.Header.IsEmpty && second.Body.IsEmpty);
        Assert.True(input.IsEmpty);
        Assert.False(_codec.TryRead(ref input, FrameLimits.Default, out _));
    }

    [Fact]
    public void An_incomplete_frame_needs_more_bytes_and_leaves_the_input_alone()
    {
        var output = new ArrayBufferWriter<byte>();
        _codec.Write("h"u8, new ReadOnlySequence<byte>(new byte[10]), output);

        for (var length = 0; length < output.WrittenCount; length++)
        {
            var input = new ReadOnlySequence<byte>(output.WrittenMemory[..length]);
            Assert.False(_codec.TryRead(ref input, FrameLimits.Default, out _));
            Assert.Equal(length, input.Length);
        }
    }

    [Fact]
    public void A_frame_over_the_limits_is_refused_as_too_large()
    {
        var output = new ArrayBufferWriter<byte>();
        _codec.Write("h"u8, new ReadOnlySequence<byte>(new byte[100]), output);
        var input = new ReadOnlySequence<byte>(output.WrittenMemory);

        var error = Assert.Throws<PlexusException>(() => _codec.TryRead(ref input, new FrameLimits(16, 99), out _));

        Assert.Equal(PlexusErrorCode.PayloadTooLarge, error.Code);
        Assert.Contains("100 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_limits_are_64_KiB_headers_and_16_MiB_bodies()
    {
        Assert.Equal(new FrameLimits(65536, 16777216), FrameLimits.Default);
    }
}

public sealed class FrameCodecSetContractTests
{
    [Fact]
    public void A_codec_set_offers_its_default_and_finds_codecs_by_name_ignoring_case()
    {
        IFrameCodecs codecs = new Toys.SingleCodecSet(new Toys.LengthPrefixCodec());

        Assert.Equal("length-prefix", codecs.Default.Name);
        Assert.True(codecs.TryGet("LENGTH-PREFIX", out var found));
        Assert.Same(codecs.Default, found);
        Assert.False(codecs.TryGet("twopart", out _));
    }
}
