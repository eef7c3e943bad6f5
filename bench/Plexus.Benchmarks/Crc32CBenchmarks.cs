using BenchmarkDotNet.Attributes;
using Plexus.Codec.TwoPart;

namespace Plexus.Benchmarks;

/// <summary>CRC-32C with the CPU's instructions against the lookup table, which is what a CPU without them runs.</summary>
[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(64, 4096, 65536)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Bytes];
        new Random(42).NextBytes(_data);
        if (!Crc32C.IsHardwareAccelerated)
        {
            throw new PlatformNotSupportedException("This CPU has no CRC-32C instructions; the hardware benchmark cannot run.");
        }
    }

    [Benchmark(Baseline = true)]
    public uint Software() => Crc32C.ComputeSoftware(_data);

    [Benchmark]
    public uint Hardware() => Crc32C.ComputeHardware(_data);
}
