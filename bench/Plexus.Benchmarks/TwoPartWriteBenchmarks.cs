using System.Buffers;
using BenchmarkDotNet.Attributes;
using Plexus.Codec.TwoPart;

namespace Plexus.Benchmarks;

/// <summary>
/// Writing one TwoPart frame (a 32-byte header and a body) into a reused buffer writer. The baseline copies the same
/// header and body bytes with no prefix and no checksum: the ratio is what the codec adds to a copy.
/// </summary>
[MemoryDiagnoser]
public class TwoPartWriteBenchmarks
{
    private readonly byte[] _header = new byte[32];
    private readonly ArrayBufferWriter<byte> _output = new(128 * 1024);
    private ReadOnlySequence<byte> _body;
    private TwoPartCodec _codec = null!;

    [Params(64, 65536)]
    public int BodyBytes { get; set; }

    [Params(false, true)]
    public bool Checksum { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        random.NextBytes(_header);
        var body = new byte[BodyBytes];
        random.NextBytes(body);
        _body = new ReadOnlySequence<byte>(body);
        _codec = TwoPartCodecFactory.Create(Checksum);
    }

    [Benchmark(Baseline = true)]
    public int CopyOnly()
    {
        _output.ResetWrittenCount();
        _output.Write(_header);
        foreach (var segment in _body)
        {
            _output.Write(segment.Span);
        }

        return _output.WrittenCount;
    }

    [Benchmark]
    public int Write()
    {
        _output.ResetWrittenCount();
        _codec.Write(_header, _body, _output);
        return _output.WrittenCount;
    }
}
