using System.Buffers;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>
/// A response stream that plays back fixed messages through one reused buffer (as a real transport would), then
/// ends or fails.
/// </summary>
internal sealed class ScriptedResponseStream : IResponseStream
{
    private readonly byte[][] _messages;
    private readonly Exception? _failure;
    private readonly byte[] _buffer = new byte[256];
    private int _next;

    public ScriptedResponseStream(byte[][] messages, Exception? failure = null)
    {
        _messages = messages;
        _failure = failure;
    }

    public ReadOnlySequence<byte> Current { get; private set; }

    public bool Disposed { get; private set; }

    public List<CancellationToken> TokensSeen { get; } = new();

    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        TokensSeen.Add(cancellationToken);
        if (_next < _messages.Length)
        {
            var message = _messages[_next++];
            message.CopyTo(_buffer, 0);
            Current = new ReadOnlySequence<byte>(_buffer, 0, message.Length);
            return ValueTask.FromResult(true);
        }

        Current = default;
        return _failure is null ? ValueTask.FromResult(false) : ValueTask.FromException<bool>(_failure);
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
