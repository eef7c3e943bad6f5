using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plexus.Transport.Rdma;

namespace Plexus.Benchmarks;

/// <summary>
/// One-sided reads and writes of a registered region through the ucx bulk transport, between two UCX contexts (each
/// with its worker thread) in this process, against a plain copy of the same bytes as the floor.
/// </summary>
[MemoryDiagnoser]
public class UcxBulkBenchmarks : IDisposable
{
    private UcxBulkTransport? _owner;
    private UcxBulkTransport? _peer;
    private IBulkRegion? _region;
    private UcxAllocatedRegion? _allocated;
    private byte[] _memory = [];
    private byte[] _local = [];

    [Params(1024 * 1024, 64 * 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _owner = Create();
        _peer = Create();
        _memory = new byte[Bytes];
        _local = new byte[Bytes];
        new Random(1).NextBytes(_memory);
        _region = _owner.RegisterAsync(_memory, BulkAccess.ReadWrite, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _allocated = _owner.AllocateAsync(Bytes, BulkAccess.ReadWrite, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _memory.CopyTo(_allocated.Memory.Span);
    }

    [Benchmark(Baseline = true)]
    public void Copy() => _memory.AsSpan().CopyTo(_local);

    [Benchmark]
    public ValueTask Read() => _peer!.ReadAsync(_region!.Descriptor, _local, CancellationToken.None);

    /// <summary>A read of a region in memory UCX allocated (the fast path).</summary>
    [Benchmark]
    public ValueTask ReadAllocated() => _peer!.ReadAsync(_allocated!.Descriptor, _local, CancellationToken.None);

    [Benchmark]
    public ValueTask Write() => _peer!.WriteAsync(_region!.Descriptor, _local, CancellationToken.None);

    [GlobalCleanup]
    public void Dispose()
    {
        _region?.Dispose();
        ((IDisposable?)_allocated)?.Dispose();
        _peer?.Dispose();
        _owner?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static UcxBulkTransport Create() =>
        new(Options.Create(new UcxBulkOptions()), NullLogger<UcxBulkTransport>.Instance);
}
