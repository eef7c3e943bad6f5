using System.Buffers;
using System.Threading.Channels;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>The client's view of a loopback call's responses.</summary>
internal sealed class LoopbackResponseStream : IResponseStream
{
    private readonly ChannelReader<byte[]> _reader;
    private readonly LoopbackCall _call;
    private bool _ended;

    public LoopbackResponseStream(ChannelReader<byte[]> reader, LoopbackCall call)
    {
        _reader = reader;
        _call = call;
    }

    public ReadOnlySequence<byte> Current { get; private set; }

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _reader.WaitToReadAsync(cancellationToken))
            {
                if (_reader.TryRead(out var message))
                {
                    Current = new ReadOnlySequence<byte>(message);
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _call.Cancel();
            throw new PlexusException(PlexusErrorCode.Cancelled, "The request was cancelled by the caller.");
        }

        _ended = true;
        Current = default;
        return false;
    }

    public ValueTask DisposeAsync()
    {
        if (!_ended)
        {
            // Leaving before the end cancels the request on the server, per the contract.
            _call.Cancel();
        }

        return ValueTask.CompletedTask;
    }
}
