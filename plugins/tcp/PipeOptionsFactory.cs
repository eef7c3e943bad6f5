using System.IO.Pipelines;

namespace Plexus.Transport.Tcp;

/// <summary>The pipes over a connection's stream: large segments, so a burst of frames is few reads and writes.</summary>
internal static class PipeOptionsFactory
{
    private const int SegmentSize = 64 * 1024;

    public static PipeReader Reader(Stream stream) =>
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: SegmentSize, minimumReadSize: 4096, leaveOpen: true));

    public static PipeWriter Writer(Stream stream) =>
        PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: SegmentSize, leaveOpen: true));
}
