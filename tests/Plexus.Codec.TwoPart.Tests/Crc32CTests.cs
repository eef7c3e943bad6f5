using System.Text;

namespace Plexus.Codec.TwoPart.Tests;

public sealed class Crc32CTests
{
    public static TheoryData<byte[], uint> KnownVectors()
    {
        var ascending = new byte[32];
        var descending = new byte[32];
        for (var i = 0; i < 32; i++)
        {
            ascending[i] = (byte)i;
            descending[i] = (byte)(31 - i);
        }

        // "123456789" is the catalogue check value; the 32-byte vectors are from RFC 3720, appendix B.4.
        return new TheoryData<byte[], uint>
        {
            { Array.Empty<byte>(), 0x00000000u },
            { Encoding.ASCII.GetBytes("123456789"), 0xE3069283u },
            { new byte[32], 0x8A9136AAu },
            { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u },
            { ascending, 0x46DD794Eu },
            { descending, 0x113FDB5Cu },
        };
    }

    [Theory]
    [MemberData(nameof(KnownVectors))]
    public void Compute_matches_known_vectors(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(data));
    }

    [Theory]
    [MemberData(nameof(KnownVectors))]
    public void Software_path_matches_known_vectors(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.ComputeSoftware(data));
    }

    [Theory]
    [MemberData(nameof(KnownVectors))]
    public void Hardware_path_matches_known_vectors_where_the_cpu_has_it(byte[] data, uint expected)
    {
        if (Crc32C.IsHardwareAccelerated)
        {
            Assert.Equal(expected, Crc32C.ComputeHardware(data));
        }
        else
        {
            Assert.Throws<PlatformNotSupportedException>(() => Crc32C.ComputeHardware(data));
        }
    }

    [Fact]
    public void Hardware_and_software_agree_on_random_data_of_every_length_and_alignment()
    {
        var random = new Random(20240601);
        var buffer = new byte[4096 + 16];
        random.NextBytes(buffer);

        for (var length = 0; length <= 300; length++)
        {
            for (var offset = 0; offset < 8; offset++)
            {
                var data = buffer.AsSpan(offset, length);
                var software = Crc32C.ComputeSoftware(data);
                Assert.Equal(software, Crc32C.Compute(data));
                if (Crc32C.IsHardwareAccelerated)
                {
                    Assert.Equal(software, Crc32C.ComputeHardware(data));
                }
            }
        }

        var large = buffer.AsSpan(3, 4096);
        Assert.Equal(Crc32C.ComputeSoftware(large), Crc32C.Compute(large));
    }

    [Fact]
    public void Append_continues_a_crc_across_any_split()
    {
        var data = new byte[257];
        new Random(7).NextBytes(data);
        var whole = Crc32C.Compute(data);

        for (var split = 0; split <= data.Length; split++)
        {
            var continued = Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split));
            Assert.Equal(whole, continued);
        }
    }

    [Fact]
    public void Sequence_overload_gives_the_same_crc_over_segments()
    {
        var data = new byte[100];
        new Random(11).NextBytes(data);

        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(0, Sequences.OneSegmentPerByte(data)));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(0, Sequences.SplitAt(data, 37)));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(0, new System.Buffers.ReadOnlySequence<byte>(data)));
    }

    [Fact]
    public void A_single_flipped_bit_changes_the_crc()
    {
        var data = Encoding.ASCII.GetBytes("123456789");
        var original = Crc32C.Compute(data);
        for (var i = 0; i < data.Length * 8; i++)
        {
            var copy = (byte[])data.Clone();
            copy[i / 8] ^= (byte)(1 << (i % 8));
            Assert.NotEqual(original, Crc32C.Compute(copy));
        }
    }
}
