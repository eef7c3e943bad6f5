using System.Buffers;
using System.Buffers.Binary;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace Plexus.Codec.TwoPart;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum used by iSCSI, ext4 and SCTP. Uses the
/// CPU's CRC32 instructions when present (SSE4.2 on x86, the CRC extension on ARM64) and a lookup table otherwise.
/// </summary>
internal static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F63B78u;

    // Built once; only used on CPUs without CRC32 instructions or for the tail bytes the wide loop leaves.
    private static readonly uint[] Table = CreateTable();

    /// <summary>Whether the hardware path is used on this machine.</summary>
    public static bool IsHardwareAccelerated => X86Sse42.IsSupported || ArmCrc32.Arm64.IsSupported;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Continues a CRC over more bytes: <c>Append(Append(0, a), b) == Compute(a + b)</c>, so a checksum can be
    /// computed over the segments of a sequence without joining them.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    /// <summary>The CRC-32C of every segment of <paramref name="data"/>, continued from <paramref name="crc"/>.</summary>
    public static uint Append(uint crc, in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            return Append(crc, data.FirstSpan);
        }

        var state = ~crc;
        foreach (var segment in data)
        {
            state = Update(state, segment.Span);
        }

        return ~state;
    }

    /// <summary>The table-driven result, whatever the CPU supports; for tests that compare both paths.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~UpdateSoftware(~0u, data);

    /// <summary>The instruction-driven result; only valid when <see cref="IsHardwareAccelerated"/>.</summary>
    internal static uint ComputeHardware(ReadOnlySpan<byte> data)
    {
        if (!IsHardwareAccelerated)
        {
            throw new PlatformNotSupportedException("This CPU has no CRC-32C instructions.");
        }

        return ~UpdateHardware(~0u, data);
    }

    private static uint Update(uint state, ReadOnlySpan<byte> data) =>
        IsHardwareAccelerated ? UpdateHardware(state, data) : UpdateSoftware(state, data);

    private static uint UpdateHardware(uint state, ReadOnlySpan<byte> data)
    {
        if (X86Sse42.X64.IsSupported)
        {
            ulong wide = state;
            while (data.Length >= sizeof(ulong))
            {
                wide = X86Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[sizeof(ulong)..];
            }

            state = (uint)wide;
        }
        else if (ArmCrc32.Arm64.IsSupported)
        {
            while (data.Length >= sizeof(ulong))
            {
                state = ArmCrc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[sizeof(ulong)..];
            }
        }

        if (X86Sse42.IsSupported)
        {
            // 32-bit x86 has no 64-bit form, and the 64-bit loop above leaves up to 7 bytes.
            while (data.Length >= sizeof(uint))
            {
                state = X86Sse42.Crc32(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
                data = data[sizeof(uint)..];
            }

            foreach (var b in data)
            {
                state = X86Sse42.Crc32(state, b);
            }

            return state;
        }

        foreach (var b in data)
        {
            state = ArmCrc32.ComputeCrc32C(state, b);
        }

        return state;
    }

    private static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (var b in data)
        {
            state = table[(byte)(state ^ b)] ^ (state >> 8);
        }

        return state;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var entry = i;
            for (var bit = 0; bit < 8; bit++)
            {
                entry = (entry & 1) != 0 ? (entry >> 1) ^ ReflectedPolynomial : entry >> 1;
            }

            table[i] = entry;
        }

        return table;
    }
}
