using System.Buffers;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>A response writer that records the messages it is given and hands out spans of at most a chosen size.</summary>
internal sealed class RecordingResponseWriter : IResponseWriter
{
    private readonly int _maxSpan;
    private readonly List<byte> _current = new();
    private byte[] _buffer;

    public RecordingResponseWriter(int maxSpan = 4096)
    {
        _maxSpan = maxSpan;
        _buffer = new byte[maxSpan];
    }

    public List<byte[]> Messages { get; } = new();

    public int Flushes { get; private set; }

    public int SpansHandedOut { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length);
        _current.AddRange(_buffer.AsSpan(0, count));
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        SpansHandedOut++;
        _buffer = new byte[_maxSpan];
        return _buffer;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void EndMessage()
    {
        Messages.Add(_current.ToArray());
        _current.Clear();
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        Flushes++;
        return ValueTask.CompletedTask;
    }
}
