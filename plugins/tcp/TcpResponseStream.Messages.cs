using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Tcp;

/// <summary>The response messages that arrived: small ones packed into shared blocks, large ones in arrays of their own.</summary>
internal sealed partial class TcpResponseStream
{
    // The caller returns the credit of small messages it moved past without the lock once this much has gathered (or
    // sooner, whenever it takes the lock): one lock and one credit update per many messages, not per message.
    private const int ConsumedBatch = 16 * 1024;

    // Credit of messages the caller moved past without the lock, not yet returned; the caller's own.
    private int _consumed;

    // The next small message in the run the caller is reading, without the lock: the reader loop only appends to a
    // run and publishes its end after the bytes, and the run's block stays put while the caller is in it. Anything
    // else (the end of the run, an abort, credit to return) is for the locked path.
    private bool TryMoveWithinRun()
    {
        if (_currentBlock is not { } run || _consumed >= ConsumedBatch || Volatile.Read(ref _abortError) is not null)
        {
            return false;
        }

        var offset = _runOffset;
        if (offset >= run.Used)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(run.Array.AsSpan(offset));
        if (length == MessageBlock.EndOfRun)
        {
            return false;
        }

        _consumed += _currentLength + Wire.FrameCharge;
        _currentOffset = offset + MessageBlock.PrefixBytes;
        _currentLength = length;
        _runOffset = _currentOffset + length;
        return true;
    }

    private void ReturnConsumedLocked()
    {
        if (_consumed > 0)
        {
            ReturnLocked(_consumed);
            _consumed = 0;
        }
    }

    private void ReleaseCurrentLocked()
    {
        if (!_hasCurrent)
        {
            return;
        }

        var current = _current;
        _current = default;
        _hasCurrent = false;
        if (_currentBlock is not null)
        {
            _currentBlock = null;
            ReturnLocked(_currentLength + Wire.FrameCharge);
        }
        else
        {
            current.Payload.Return(_pool);
            ReturnLocked(current.Credit);
        }

        if (NothingToReadLocked() && _withheld > 0)
        {
            // The caller has caught up; the message still arriving must be allowed to finish.
            ReturnLocked(_withheld);
            _withheld = 0;
        }
    }

    // The reader loop wakes a waiting caller once it has parsed everything it read, so a burst costs one wake-up.
    private void ScheduleWakeLocked()
    {
        if (_waiting && !_wakeScheduled)
        {
            _wakeScheduled = true;
            _session.ScheduleWake(this);
        }
    }

    // Whether the caller has read everything that arrived complete.
    private bool NothingToReadLocked() =>
        !_hasCurrent && _messages.Count == 0 && (_run is null || _runOffset == _run.Used);

    // Takes the next message, small or large, as the current one.
    private bool TryTakeLocked()
    {
        while (true)
        {
            if (_run is { } run)
            {
                if (_runOffset == run.Used)
                {
                    // Caught up with the open run: nothing else is queued behind it.
                    return false;
                }

                var length = BinaryPrimitives.ReadInt32LittleEndian(run.Array.AsSpan(_runOffset));
                if (length != MessageBlock.EndOfRun)
                {
                    _currentBlock = run;
                    _currentOffset = _runOffset + MessageBlock.PrefixBytes;
                    _currentLength = length;
                    _runOffset = _currentOffset + length;
                    _hasCurrent = true;
                    return true;
                }

                FinishRunLocked(run);
                _run = null;
            }

            if (!_messages.TryDequeue(out var message))
            {
                return false;
            }

            if (message.Block is { } block)
            {
                _run = block;
                _runOffset = message.Offset;
                continue;
            }

            _current = message;
            _hasCurrent = true;
            return true;
        }
    }

    private void AppendSmallLocked(in ReadOnlySequence<byte> body)
    {
        var length = (int)body.Length;

        // Room for the message and for the end-of-run mark that may follow it.
        var needed = length + (2 * MessageBlock.PrefixBytes);
        if ((!_runOpen || _block!.Array.Length - _block.Used < needed) && !TryRewindLocked(needed))
        {
            OpenRunLocked(needed);
        }

        var target = _block!;
        BinaryPrimitives.WriteInt32LittleEndian(target.Array.AsSpan(target.Used), length);
        body.CopyTo(target.Array.AsSpan(target.Used + MessageBlock.PrefixBytes));
        target.Used += MessageBlock.PrefixBytes + length;
    }

    // A MESSAGES frame's body is already a run's layout (a length, then the bytes, for each message): one copy takes it
    // all. A block too small for it is replaced by one of the body's size.
    private void AppendPackedLocked(in ReadOnlySequence<byte> body)
    {
        var length = (int)body.Length;
        var needed = length + MessageBlock.PrefixBytes;
        if ((!_runOpen || _block!.Array.Length - _block.Used < needed) && !TryRewindLocked(needed))
        {
            OpenRunLocked(needed);
        }

        var target = _block!;
        body.CopyTo(target.Array.AsSpan(target.Used));
        target.Used += length;
    }

    // The open run's block is full, but the caller has read all of it and holds no message from it (so it is not
    // reading on in it without the lock either): the run goes on from the block's front. A token stream whose caller
    // keeps up keeps its first block for its whole life instead of trading it for a bigger one every few dozen tokens.
    private bool TryRewindLocked(int needed)
    {
        if (!_runOpen || _block is not { } block || _run != block || block.Runs != 1 || _runOffset != block.Used
            || _hasCurrent || _messages.Count != 0 || block.Array.Length < needed)
        {
            return false;
        }

        block.Used = 0;
        _runOffset = 0;
        return true;
    }

    // Starts a run in a block with room for needed bytes (the end-of-run mark included): the current block, from the
    // front when everything in it has been read, else the spare or a fresh one.
    private void OpenRunLocked(int needed)
    {
        CloseRunLocked();
        var block = _block;
        if (block is not null && block.Runs == 0)
        {
            // Everything in it has been read: start again at the front.
            block.Used = 0;
        }

        if (block is null || block.Array.Length - block.Used < needed)
        {
            if (block is not null && block.Runs == 0)
            {
                Recycle(block);
            }

            // A full block with unread runs stays with them; the caller recycles it after the last one.
            block = _spare is { } spare && spare.Array.Length >= needed ? spare : NewBlock(needed);
            if (block == _spare)
            {
                _spare = null;
            }

            block.Used = 0;
            _block = block;
        }

        block.Runs++;
        _messages.Enqueue(new ReceivedMessage(default, 0, block, block.Used));
        _runOpen = true;
    }

    // Ends the open run, so that what is queued after it is read after it.
    private void CloseRunLocked()
    {
        if (!_runOpen)
        {
            return;
        }

        var block = _block!;
        BinaryPrimitives.WriteInt32LittleEndian(block.Array.AsSpan(block.Used), MessageBlock.EndOfRun);
        block.Used += MessageBlock.PrefixBytes;
        _runOpen = false;
    }

    private void FinishRunLocked(MessageBlock block)
    {
        if (--block.Runs == 0 && block != _block)
        {
            Recycle(block);
        }
    }

    // Returns the connection credit of the unread messages of a run that will never be read, and finishes it.
    private void DiscardRunLocked(MessageBlock block, int offset)
    {
        var credit = 0;
        while (offset < block.Used)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(block.Array.AsSpan(offset));
            if (length == MessageBlock.EndOfRun)
            {
                break;
            }

            credit += length + Wire.FrameCharge;
            offset += MessageBlock.PrefixBytes + length;
        }

        _connection.ReturnCredit(credit);
        FinishRunLocked(block);
    }

    private void Recycle(MessageBlock block)
    {
        if (_spare is null)
        {
            _spare = block;
        }
        else
        {
            _pool.Return(block.Array);
        }
    }

    // Called once nothing will be read any more: the blocks go back to the pool.
    private void ReleaseBlocksLocked()
    {
        if (_block is not null)
        {
            _pool.Return(_block.Array);
            _block = null;
            _runOpen = false;
        }

        _run = null;
        if (_spare is not null)
        {
            _pool.Return(_spare.Array);
            _spare = null;
        }
    }

    private MessageBlock NewBlock(int needed)
    {
        var block = new MessageBlock(_pool.Rent(Math.Max(_nextBlockBytes, needed)));
        _nextBlockBytes = Math.Min(2 * _nextBlockBytes, BlockBytes);
        return block;
    }
}
