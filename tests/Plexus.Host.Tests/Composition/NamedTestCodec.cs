using System.Buffers;

namespace Plexus.Host.Tests.Codecs;

/// <summary>A codec standing in for one a plugin would add beside TwoPart.</summary>
internal sealed class NamedTestCodec : IFrameCodec
{
    public string Name => "test-codec";

    public bool TryRead(ref ReadOnlySequence<byte> input, FrameLimits limits, out Frame frame)
    {
        frame = default;
        return false;
    }

    public void Write(ReadOnlySpan<byte> header, in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
    }
}
