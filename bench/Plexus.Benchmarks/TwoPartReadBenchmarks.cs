using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Plexus.Codec.TwoPart;

namespace Plexus.Benchmarks;

/// <summary>
/// Reading one TwoPart frame (a 32-byte header and a body) from a single-segment sequence. The baseline reads the two
/// length fields and slices the parts, which any length-prefixed framing must do: the ratio is what the codec's
/// checks (and, with a checksum, the CRC over every byte) add to that.
/// </summary>
[MemoryDiagnoser]
public class TwoPartReadBenchmarks
{
    private static readonly FrameLimits Limits = new(64 * 1024, 16 * 1024 * 1024);

    private ReadOnlySequence<byte> _encoded;
    private TwoPartCodec _codec = null!;

    [Params(64, 65536)]
    public int BodyBytes { get; set; }

    [Params(false, true)]
    public bool Checksum { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var header = new byte[32];
        var body = new byte[BodyBytes];
        random.NextBytes(header);
        random.NextBytes(body);
        _codec = TwoPartCodecFactory.Create(Checksum);
        var output = new ArrayBufferWriter<byte>();
        _codec.Write(header, new ReadOnlySequence<byte>(body), output);
        _encoded = new ReadOnlySequence<byte>(output.WrittenMemory);
    }

    [Benchmark(Baseline = true)]
    public long SliceOnly()
    {
        var span = _encoded.FirstSpan;
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(span);
        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        var header = _encoded.Slice(TwoPartCodec.PrefixLength, headerLength);
        var body = _encoded.Slice(header.End, bodyLength);
        return header.Length + body.Length;
    }

    [Benchmark]
    public long TryRead()
    {
        var input = _encoded;
        if (!_codec.TryRead(ref input, Limits, out var frame))
        {
            throw new InvalidOperationException("The encoded frame did not read back.");
        }

        return frame.Header.Length + frame.Body.Length;
    }
}
