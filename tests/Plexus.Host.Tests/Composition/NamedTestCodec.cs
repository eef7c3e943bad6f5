using System.Buffers;

namespace Plexus.Host.Tests.Composition;

/// <summary>A codec standing in for one a codec plugin provides; it frames nothing.</summary>
internal sealed class NamedTestCodec(string name) : IFrameCodec
{
    public string Name => name;

    public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame)
    {
        frame = default;
        return false;
    }

    public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
    }
}
