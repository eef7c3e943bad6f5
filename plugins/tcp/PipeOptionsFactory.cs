using System.IO.Pipelines;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The pipes over a connection's stream. Segments are 1 MiB so that bulk traffic moves in reads and writes of up to
/// 1 MiB, as a plain socket loop would: at 64 KiB a 64 MiB payload took 1,024 reads, each with its own system call
/// and wake-up, and cost about 0.65 ns of CPU per byte against 0.45 at 1 MiB (BENCHMARKS.md, TCP). Small traffic
/// touches only the first pages of a segment, segments come from the shared array pool and go back after each
/// flush, and reads wait for data with a zero-byte read first, so an idle connection holds no buffer at all.
/// </summary>
internal static class PipeOptionsFactory
{
    private const int SegmentSize = 1024 * 1024;

    public static PipeReader Reader(Stream stream) =>
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: SegmentSize, minimumReadSize: 4096, leaveOpen: true, useZeroByteReads: true));

    public static PipeWriter Writer(Stream stream) =>
        PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: SegmentSize, leaveOpen: true));
}
