using System.Buffers.Binary;

namespace Plexus.Transport.Conformance;

/// <summary>
/// Writes <see cref="Count"/> messages, mostly small with a large one now and then, flushed in runs of uneven length
/// (sometimes one by one, sometimes dozens together). Message <c>i</c> is <see cref="MessageLength"/> bytes: <c>i</c> as
/// 4 little-endian bytes (when there is room), then bytes derived from <c>i</c> and their offset.
/// </summary>
internal sealed class MixedSizeStreamHandler : IEndpointHandler
{
    public const int Count = 2_000;

    // Empty, tiny, small, around 1 and 4 KiB, and larger than a frame of most transports (64 KiB).
    private static readonly int[] Sizes = [16, 0, 3, 24, 1, 200, 16, 1023, 1025, 8, 4092, 4093, 16, 4100, 40];
    private const int LargeBytes = 100 * 1024;

    public static int MessageLength(int index) => index % 97 == 96 ? LargeBytes : Sizes[index % Sizes.Length];

    public static byte ByteAt(int index, int offset) => (byte)(index + (offset * 31));

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        var run = 0;
        for (var i = 0; i < Count; i++)
        {
            var length = MessageLength(i);
            var span = responses.GetSpan(length)[..length];
            for (var offset = 0; offset < length; offset++)
            {
                span[offset] = ByteAt(i, offset);
            }

            if (length >= sizeof(int))
            {
                BinaryPrimitives.WriteInt32LittleEndian(span, i);
            }

            responses.Advance(length);
            responses.EndMessage();

            // Runs of 1, 2, 3 … 13 messages per flush, over and over.
            if (++run > i % 13)
            {
                run = 0;
                await responses.FlushAsync(request.RequestAborted);
            }
        }
    }
}
