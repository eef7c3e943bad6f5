using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Bench;

/// <summary>
/// The bulk-path scenario's endpoint: reads one byte of every 4 KiB page of the payload, so that every page the bulk
/// transport or the stream transport delivered is touched, and answers their sum, 8 bytes little-endian. The caller
/// knows the sum of what it sent, so a wrong or missing page fails the run.
/// </summary>
internal static class BulkPathSink
{
    public const string Endpoint = "bench/bulk/sink";

    public const int PageBytes = 4096;

    public const int AnswerBytes = sizeof(long);

    public static ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responses);
        var sum = SumPages(request.Payload);
        BinaryPrimitives.WriteInt64LittleEndian(responses.GetSpan(AnswerBytes), sum);
        responses.Advance(AnswerBytes);
        responses.EndMessage();
        return responses.FlushAsync(request.RequestAborted);
    }

    /// <summary>The sum of the bytes at offsets 0, 4096, 8192, … of the payload, across its segments.</summary>
    public static long SumPages(ReadOnlySequence<byte> payload)
    {
        long sum = 0;
        long start = 0;
        long next = 0;
        foreach (var segment in payload)
        {
            var span = segment.Span;
            var end = start + span.Length;
            while (next < end)
            {
                sum += span[(int)(next - start)];
                next += PageBytes;
            }

            start = end;
        }

        return sum;
    }
}
