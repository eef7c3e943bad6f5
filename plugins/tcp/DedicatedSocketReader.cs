using System.Buffers;
using System.IO.Pipelines;

namespace Plexus.Transport.Tcp;

/// <summary>
/// A low-latency connection's reader, on its connection thread (<see cref="ConnectionThreads"/>): it blocks in
/// <see cref="Stream.Read(Span{byte})"/>, which waits in the kernel (<see cref="PollingNetworkStream"/>), and writes what
/// arrives into a <see cref="Pipe"/> whose reader continuations run inline, so the connection's reader loop parses and
/// dispatches the bytes on this thread the moment they arrive, with no thread-pool hand-off. Back-pressure is the
/// pipe's: while the reader loop does not consume (it has paused, see <see cref="TcpTransportOptions.MaxQueuedControlBytes"/>),
/// the thread stops reading once the pipe holds its pause threshold, and TCP holds the peer back. It ends when the
/// socket closes or the reader loop completes the pipe; nothing it meets escapes it: a failure completes the pipe with
/// it, for the reader loop to report.
/// </summary>
internal sealed class DedicatedSocketReader
{
    // Reads take up to the rest of a pipe segment of this size, as the default mode's reads do (see PipeOptionsFactory),
    // so bulk traffic moves in large reads; a read never asks for less than MinimumReadSize.
    private const int SegmentSize = 1024 * 1024;
    private const int MinimumReadSize = 4096;

    private readonly Stream _stream;
    private readonly PipeReader _handshake;
    private readonly Pipe _pipe;

    /// <param name="stream">The connection's stream.</param>
    /// <param name="handshake">The reader the handshake used: what it read past the handshake comes first, and this completes it.</param>
    /// <param name="largestFrame">The most bytes one frame can take on the wire.</param>
    public DedicatedSocketReader(Stream stream, PipeReader handshake, long largestFrame)
    {
        _stream = stream;
        _handshake = handshake;

        // The reader loop keeps an incomplete frame unconsumed until the rest arrives, so the writer must resume with a
        // whole frame of the largest kind still unconsumed: below that, the two would wait for each other for good.
        var resume = Math.Max(SegmentSize / 2, largestFrame + MinimumReadSize);
        _pipe = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: resume + SegmentSize,
            resumeWriterThreshold: resume,
            minimumSegmentSize: SegmentSize,
            useSynchronizationContext: false));
    }

    /// <summary>What the reader loop reads from: the bytes this reader takes off the stream.</summary>
    public PipeReader Input => _pipe.Reader;

    /// <summary>Reads until the connection ends; runs on the connection thread.</summary>
    public void Run()
    {
        var output = _pipe.Writer;
        Exception? error = null;
        try
        {
            // The handshake's reader may hold the first frames already, read along with the handshake's last message.
            if (_handshake.TryRead(out var early))
            {
                foreach (var segment in early.Buffer)
                {
                    output.Write(segment.Span);
                }

                _handshake.AdvanceTo(early.Buffer.End);
            }

            _handshake.Complete();
            if (Flush(output))
            {
                while (true)
                {
                    var memory = output.GetMemory(MinimumReadSize);
                    var read = _stream.Read(memory.Span);
                    if (read == 0)
                    {
                        break;
                    }

                    output.Advance(read);
                    if (!Flush(output))
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception exception)
        {
            // The socket closed or failed (the usual end of a connection), or the reader loop broke: it hears why.
            error = exception;
        }
        finally
        {
            try
            {
                output.Complete(error);
            }
            catch (Exception)
            {
                // The reader loop has ended already, or ends now on its own error; either way nothing here is left to do.
            }
        }
    }

    // Hands the bytes to the reader loop, which runs inline here unless it is busy on another thread or paused; then
    // waits while the pipe is over its threshold. False once the reader loop has completed the pipe.
    private static bool Flush(PipeWriter output)
    {
        var flush = output.FlushAsync();
        var result = flush.IsCompleted ? flush.GetAwaiter().GetResult() : flush.AsTask().GetAwaiter().GetResult();
        return !result.IsCompleted;
    }
}
