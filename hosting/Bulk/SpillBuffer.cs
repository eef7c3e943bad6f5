using System.Buffers;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The bytes of a response message on its way to a registered buffer, written as the handler writes them: 1 MiB
/// chunks from the shared pool, or one array of the size asked for when a handler asks for more at once (not pooled, so
/// that huge arrays are never retained).
/// </summary>
internal sealed class SpillBuffer : IDisposable
{
    private const int ChunkSize = 1 << 20;

    private readonly List<(byte[] Array, bool Pooled)> _chunks = [];

    // Bytes written into each chunk but the last, recorded when the next one was added.
    private readonly List<int> _closed = [];
    private int _used;
    private long _length;

    public long Length => _length;

    public Span<byte> GetSpan(int sizeHint) => GetMemory(sizeHint).Span;

    public Memory<byte> GetMemory(int sizeHint)
    {
        var wanted = Math.Max(sizeHint, 1);
        if (_chunks.Count == 0 || _chunks[^1].Array.Length - _used < wanted)
        {
            if (_chunks.Count > 0)
            {
                _closed.Add(_used);
            }

            _chunks.Add(wanted <= ChunkSize ? (ArrayPool<byte>.Shared.Rent(ChunkSize), true) : (GC.AllocateUninitializedArray<byte>(wanted), false));
            _used = 0;
        }

        return _chunks[^1].Array.AsMemory(_used);
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_chunks.Count == 0 || _used + count > _chunks[^1].Array.Length)
        {
            throw new InvalidOperationException("Advanced past the memory the response writer handed out.");
        }

        _used += count;
        _length += count;
    }

    /// <summary>Copies every byte to <paramref name="destination"/>, which holds at least <see cref="Length"/> bytes.</summary>
    public void CopyTo(Span<byte> destination)
    {
        var at = 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            var used = i == _chunks.Count - 1 ? _used : ChunkLength(i);
            _chunks[i].Array.AsSpan(0, used).CopyTo(destination[at..]);
            at += used;
        }
    }

    /// <summary>Writes every byte to <paramref name="writer"/>.</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        for (var i = 0; i < _chunks.Count; i++)
        {
            var used = i == _chunks.Count - 1 ? _used : ChunkLength(i);
            writer.Write(_chunks[i].Array.AsSpan(0, used));
        }
    }

    public void Dispose()
    {
        foreach (var (array, pooled) in _chunks)
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }

        _chunks.Clear();
        _closed.Clear();
        _used = 0;
        _length = 0;
    }

    private int ChunkLength(int index) => _closed[index];
}
