using System.Buffers.Binary;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The response stream of a request whose client pulls large messages by bulk transfer. Every message it hands the
/// transport ends with a marker byte (<see cref="BulkWire"/>). Small messages go straight into the transport's buffer;
/// once a message outgrows <c>Plexus:Bulk:Threshold</c>, what was written of it goes as a
/// <see cref="BulkWire.Continued"/> part and the rest is gathered aside, copied into a registered buffer at the next
/// flush, and offered by descriptor. Messages ended while one waits for its flush wait too, so that order holds.
/// </summary>
internal sealed class BulkResponseChannel : IResponseChannel, IBulkResponseWriter
{
    private static readonly Action Nothing = static () => { };

    private readonly IResponseChannel _inner;
    private readonly BulkPath _bulk;
    private readonly int _threshold;
    private readonly Queue<Waiting> _waiting = new();
    private SpillBuffer? _spill;
    private int _written;

    public BulkResponseChannel(IResponseChannel inner, BulkPath bulk)
    {
        _inner = inner;
        _bulk = bulk;
        _threshold = bulk.Options.Threshold;
    }

    public string? BulkTransport => _bulk.Transport?.Name;

    public bool HasResponded => _inner.HasResponded;

    public Span<byte> GetSpan(int sizeHint = 0) => Spilling(sizeHint) ? _spill!.GetSpan(sizeHint) : Capped(_inner.GetSpan(sizeHint), sizeHint);

    public Memory<byte> GetMemory(int sizeHint = 0) => Spilling(sizeHint) ? _spill!.GetMemory(sizeHint) : Capped(_inner.GetMemory(sizeHint), sizeHint);

    public void Advance(int count)
    {
        if (_spill is not null)
        {
            _spill.Advance(count);
            return;
        }

        _inner.Advance(count);
        _written += count;
    }

    public void EndMessage()
    {
        if (_spill is { Length: 0 } && _waiting.Count == 0)
        {
            // Asked for room aside but wrote nothing there: the whole message is in the transport's buffer already.
            _spill.Dispose();
            _spill = null;
        }

        if (_spill is null && _waiting.Count > 0)
        {
            // A message that asked for no room at all (an empty one) still waits its turn.
            _spill = new SpillBuffer();
        }

        if (_spill is null)
        {
            Mark(BulkWire.Inline);
            _written = 0;
            return;
        }

        var spill = _spill;
        _spill = null;
        if (_written + spill.Length > _threshold)
        {
            if (_written > 0)
            {
                Mark(BulkWire.Continued);
            }

            _waiting.Enqueue(new Waiting(spill, Large: true, null, null));
        }
        else if (_waiting.Count == 0)
        {
            // Spilled on a size hint that the handler did not use up: small after all, and nothing waits before it.
            spill.WriteTo(_inner);
            spill.Dispose();
            Mark(BulkWire.Inline);
        }
        else
        {
            _waiting.Enqueue(new Waiting(spill, Large: false, null, null));
        }

        _written = 0;
    }

    public void EndMessage(BulkDescriptor descriptor, Action? whenRead)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (_written > 0 || _spill is { Length: > 0 })
        {
            throw new InvalidOperationException("A message offered by descriptor must not have bytes written to it; end the message being written first.");
        }

        if (!string.Equals(descriptor.Transport, BulkTransport, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The descriptor is of bulk transport '{descriptor.Transport}', but this client pulls with '{BulkTransport}'.");
        }

        _spill?.Dispose();
        _spill = null;
        if (_waiting.Count == 0)
        {
            Offer(new BulkHold(descriptor, descriptor.Length, null, whenRead ?? Nothing));
        }
        else
        {
            _waiting.Enqueue(new Waiting(null, Large: true, descriptor, whenRead));
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await OfferWaitingAsync(cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(PlexusException? error)
    {
        if (error is null)
        {
            try
            {
                await OfferWaitingAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ex as PlexusException ?? new PlexusException(PlexusErrorCode.Unavailable, $"Offering a response message by bulk transfer failed: {ex.Message}");
            }
        }

        while (_waiting.TryDequeue(out var left))
        {
            left.Spill?.Dispose();
            try
            {
                left.WhenRead?.Invoke();
            }
            catch (Exception)
            {
                // A handler's callback that fails must not keep the stream from ending (CompleteAsync never throws).
            }
        }

        _spill?.Dispose();
        _spill = null;
        await _inner.CompleteAsync(error).ConfigureAwait(false);
    }

    // A writer that asks for "some room" gets at most this much of the transport's buffer, so that a large message
    // written in one piece (IBufferWriter.Write asks for room, then for the rest) is known to be large after a small
    // first part, and only that part goes inline.
    private const int InlineStep = 64 * 1024;

    private static Span<byte> Capped(Span<byte> span, int sizeHint) => sizeHint <= InlineStep && span.Length > InlineStep ? span[..InlineStep] : span;

    private static Memory<byte> Capped(Memory<byte> memory, int sizeHint) => sizeHint <= InlineStep && memory.Length > InlineStep ? memory[..InlineStep] : memory;

    private bool Spilling(int sizeHint)
    {
        if (_spill is not null)
        {
            return true;
        }

        if (_waiting.Count > 0 || _written + (long)sizeHint > _threshold || _written > _threshold)
        {
            _spill = new SpillBuffer();
            return true;
        }

        return false;
    }

    private async ValueTask OfferWaitingAsync(CancellationToken cancellationToken)
    {
        while (_waiting.TryDequeue(out var next))
        {
            if (next.Spill is not { } spill)
            {
                Offer(new BulkHold(next.Descriptor!, next.Descriptor!.Length, null, next.WhenRead ?? Nothing));
                continue;
            }

            using (spill)
            {
                if (!next.Large)
                {
                    spill.WriteTo(_inner);
                    Mark(BulkWire.Inline);
                    continue;
                }

                var pool = _bulk.Pool!;
                IBulkBuffer buffer;
                try
                {
                    buffer = await pool.RentAsync((int)spill.Length, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // No registered memory to be had: the message still arrives, inline.
                    _bulk.Metrics.Inline(spill.Length, "failed");
                    spill.WriteTo(_inner);
                    Mark(BulkWire.Inline);
                    continue;
                }

                spill.CopyTo(buffer.Memory.Span);
                Offer(new BulkHold(buffer.Descriptor, spill.Length, buffer, () => pool.Return(buffer)));
            }
        }
    }

    /// <summary>Sends the hold id and descriptor record as a message of their own.</summary>
    private void Offer(BulkHold hold)
    {
        var id = _bulk.Holds.Add(hold);
        _bulk.Metrics.Offer("offered");
        var length = sizeof(ulong) + BulkWire.RecordLength(hold.Descriptor) + 1;
        var span = _inner.GetSpan(length);
        BinaryPrimitives.WriteUInt64LittleEndian(span, id);
        BulkWire.WriteRecord(span[sizeof(ulong)..], hold.Descriptor, hold.Length);
        span[length - 1] = BulkWire.Offered;
        _inner.Advance(length);
        _inner.EndMessage();
    }

    private void Mark(byte marker)
    {
        _inner.GetSpan(1)[0] = marker;
        _inner.Advance(1);
        _inner.EndMessage();
    }

    /// <summary>A message ended but not yet handed to the transport: bytes set aside, or a handler's region.</summary>
    private readonly record struct Waiting(SpillBuffer? Spill, bool Large, BulkDescriptor? Descriptor, Action? WhenRead);
}
