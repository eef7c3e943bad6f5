using System.Buffers;
using System.Threading.Channels;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>Collects ended messages and hands them to a bounded channel on flush, which gives the back-pressure.</summary>
internal sealed class LoopbackResponseWriter : IResponseChannel
{
    private readonly ChannelWriter<byte[]> _channel;
    private readonly CancellationToken _aborted;
    private readonly ArrayBufferWriter<byte> _current = new();
    private readonly Queue<byte[]> _ended = new();
    private bool _responded;

    public LoopbackResponseWriter(ChannelWriter<byte[]> channel, CancellationToken aborted)
    {
        _channel = channel;
        _aborted = aborted;
    }

    public void Advance(int count) => _current.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => _current.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => _current.GetSpan(sizeHint);

    public void EndMessage()
    {
        _ended.Enqueue(_current.WrittenSpan.ToArray());
        _current.ResetWrittenCount();
    }

    public bool HasResponded => _responded;

    public async ValueTask CompleteAsync(PlexusException? error)
    {
        if (error is null)
        {
            try
            {
                await FlushAsync(CancellationToken.None);
            }
            catch (PlexusException e)
            {
                error = e;
            }
        }

        if (error is null)
        {
            _channel.TryComplete();
        }
        else
        {
            _channel.TryComplete(error);
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _aborted);
        try
        {
            while (_ended.TryPeek(out var message))
            {
                await _channel.WriteAsync(message, linked.Token);
                _ended.Dequeue();
                _responded = true;
            }
        }
        catch (OperationCanceledException)
        {
            throw new PlexusException(PlexusErrorCode.Cancelled, "The request was cancelled while its responses were being sent.");
        }
        catch (ChannelClosedException)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, "The client is gone.");
        }
    }
}
