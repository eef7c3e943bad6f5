using System.Buffers;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The client's side of a response stream whose messages end with a bulk marker (<see cref="BulkWire"/>): inline
/// messages are handed on without their marker byte; offered ones are pulled into a registered buffer (with the
/// inline first part of a <see cref="BulkWire.Continued"/> message in front), and the server is told it may let go.
/// When a pull fails, the bytes are fetched inline from the server instead, so the caller always gets the message.
/// </summary>
internal sealed class BulkResponseStream : IResponseStream
{
    private readonly IResponseStream _inner;
    private readonly BulkPath _bulk;
    private readonly IRequestPlaneClient _client;
    private readonly Instance _instance;
    private IBulkBuffer? _held;
    private ReadOnlySequence<byte> _current;

    public BulkResponseStream(IResponseStream inner, BulkPath bulk, IRequestPlaneClient client, Instance instance)
    {
        _inner = inner;
        _bulk = bulk;
        _client = client;
        _instance = instance;
    }

    public ReadOnlySequence<byte> Current => _current;

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        ReturnHeld();
        if (!await _inner.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            _current = default;
            return false;
        }

        var message = _inner.Current;
        var marker = Marker(message);
        switch (marker)
        {
            case BulkWire.Inline:
                _current = message.Slice(0, message.Length - 1);
                return true;
            case BulkWire.Offered:
                await PullAsync(message, prefix: default, cancellationToken).ConfigureAwait(false);
                return true;
            case BulkWire.Continued:
                // The transport reuses the first part's memory for the next message: keep a copy.
                var prefix = message.Slice(0, message.Length - 1).ToArray();
                if (!await _inner.MoveNextAsync(cancellationToken).ConfigureAwait(false) || Marker(_inner.Current) != BulkWire.Offered)
                {
                    throw new PlexusException(PlexusErrorCode.ProtocolError, "A response message's first part was not followed by the descriptor of its rest; the server broke the bulk protocol.");
                }

                await PullAsync(_inner.Current, prefix, cancellationToken).ConfigureAwait(false);
                return true;
            default:
                throw new PlexusException(PlexusErrorCode.ProtocolError, $"A response message ended with bulk marker {marker}, which this node does not know; both ends must run a Plexus that speaks the same bulk protocol.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        ReturnHeld();
        await _inner.DisposeAsync().ConfigureAwait(false);
    }

    private static byte Marker(ReadOnlySequence<byte> message)
    {
        if (message.IsEmpty)
        {
            throw new PlexusException(PlexusErrorCode.ProtocolError, "A response message came without its bulk marker byte; the server broke the bulk protocol.");
        }

        return message.Slice(message.Length - 1).FirstSpan[0];
    }

    private async ValueTask PullAsync(ReadOnlySequence<byte> message, ReadOnlyMemory<byte> prefix, CancellationToken cancellationToken)
    {
        var body = message.Slice(0, message.Length - 1);
        var id = BulkWire.ReadHoldId(body);
        var remote = BulkWire.ReadRecord(body.Slice(sizeof(ulong)), _bulk.Transport!.Name);
        IBulkBuffer buffer;
        try
        {
            buffer = await _bulk.PullAsync(remote, "response", prefix.Length, cancellationToken).ConfigureAwait(false);
            _bulk.ReleaseLater(_client, _instance, id);
        }
        catch (PlexusException ex) when (ex.Code == PlexusErrorCode.BulkUnavailable)
        {
            _bulk.Failed(_instance, remote.Length, ex);
            buffer = await FetchAsync(id, remote.Length, prefix.Length, cancellationToken).ConfigureAwait(false);
        }

        prefix.Span.CopyTo(buffer.Memory.Span);
        _held = buffer;
        _current = new ReadOnlySequence<byte>(buffer.Memory[..(prefix.Length + (int)remote.Length)]);
    }

    /// <summary>Asks the server for an offered message's bytes inline, into a registered buffer like a pull.</summary>
    private async ValueTask<IBulkBuffer> FetchAsync(ulong id, long length, int offset, CancellationToken cancellationToken)
    {
        var buffer = await _bulk.Pool!.RentAsync(offset + (int)length, cancellationToken).ConfigureAwait(false);
        try
        {
            var request = new OutgoingRequest(BulkWire.Fetch, _instance.Id, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(BulkWire.HoldId(id)), Instance.EmptyMetadata, null);
            await using var stream = await _client.SendAsync(_instance.Address, request, cancellationToken).ConfigureAwait(false);
            if (!await stream.MoveNextAsync(cancellationToken).ConfigureAwait(false) || stream.Current.Length != length)
            {
                throw new PlexusException(PlexusErrorCode.ProtocolError, $"Fetching an offered response message of {length} bytes inline gave {(stream.Current.IsEmpty ? "nothing" : $"{stream.Current.Length} bytes")}.");
            }

            stream.Current.CopyTo(buffer.Memory.Span[offset..]);
            return buffer;
        }
        catch
        {
            _bulk.Pool!.Return(buffer);
            throw;
        }
    }

    private void ReturnHeld()
    {
        if (_held is { } held)
        {
            _held = null;
            _current = default;
            _bulk.Pool!.Return(held);
        }
    }
}
