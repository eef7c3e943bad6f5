using System.Buffers.Binary;
using System.Buffers.Text;

namespace Plexus.Bench;

/// <summary>
/// The nats-raw server side: one connection subscribed to the unary, stream and bulk subjects, answering on each
/// message's reply subject. Every request in a received chunk is answered into one output buffer, sent once per
/// chunk; stream messages are packed into 64 KiB sends; bulk chunks are counted as they arrive, never copied.
/// </summary>
internal sealed class NatsRawResponder
{
    public const int UnarySid = 1;
    public const int StreamSid = 2;
    public const int BulkSid = 3;

    private const int OutputBytes = 64 * 1024;

    // Longer than any reply subject plus the PUB line around it; a subject that does not fit is refused.
    private const int MaxReplyBytes = 1024;

    private readonly NatsRawConnection _connection;
    private readonly byte[] _out = new byte[OutputBytes];
    private readonly byte[] _ackReply = new byte[MaxReplyBytes];
    private readonly byte[] _ack = new byte[BenchSizes.BulkAckBytes];
    private readonly byte[] _message = new byte[BenchSizes.StreamMessageBytes];
    private int _outLength;

    public NatsRawResponder(NatsRawConnection connection) => _connection = connection;

    /// <summary>Serves until the connection closes or <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var connection = _connection;
        long bulkReceived = 0;
        long skip = 0;
        var ackReplyLength = -1;
        while (true)
        {
            while (true)
            {
                if (skip > 0)
                {
                    // Inside a bulk chunk: count it and drop it.
                    var n = (int)Math.Min(skip, connection.Buffered);
                    connection.Consume(n);
                    skip -= n;
                    if (skip > 0)
                    {
                        break;
                    }

                    if (ackReplyLength >= 0)
                    {
                        await ReserveAsync(ackReplyLength + 64, stopping);
                        BinaryPrimitives.WriteInt64LittleEndian(_ack, bulkReceived);
                        AppendPub(_ackReply.AsSpan(0, ackReplyLength), _ack);
                        bulkReceived = 0;
                        ackReplyLength = -1;
                    }

                    continue;
                }

                if (!connection.TryReadMsg(out var msg))
                {
                    break;
                }

                if (msg.ReplyLength > MaxReplyBytes)
                {
                    throw new InvalidDataException($"A reply subject of {msg.ReplyLength} bytes is longer than {BenchNames.NatsRaw} handles.");
                }

                if (msg.Sid == BulkSid)
                {
                    // The last chunk of a transfer carries the reply subject: acknowledge once it is all in.
                    if (msg.ReplyLength > 0)
                    {
                        connection.Span.Slice(msg.ReplyOffset, msg.ReplyLength).CopyTo(_ackReply);
                        ackReplyLength = msg.ReplyLength;
                    }

                    connection.Consume(msg.LineLength);
                    bulkReceived += msg.Size;
                    skip = msg.Size + 2L;
                    continue;
                }

                if (connection.Buffered < msg.FrameLength)
                {
                    break;
                }

                if (msg.Sid == UnarySid)
                {
                    if (msg.Size != BenchSizes.UnaryRequestBytes)
                    {
                        throw new InvalidDataException($"The unary request has {msg.Size} bytes.");
                    }

                    await ReserveAsync(msg.ReplyLength + 32 + BenchSizes.UnaryResponseBytes, stopping);
                    AppendPub(connection.Span.Slice(msg.ReplyOffset, msg.ReplyLength), BenchPayloads.UnaryResponse.Span);
                    connection.Consume(msg.FrameLength);
                }
                else if (msg.Sid == StreamSid)
                {
                    var reply = connection.Span.Slice(msg.ReplyOffset, msg.ReplyLength).ToArray();
                    connection.Consume(msg.FrameLength);
                    await StreamAsync(reply, stopping);
                }
                else
                {
                    connection.Consume(msg.FrameLength);
                }
            }

            await FlushAsync(stopping);
            await connection.FillAsync(stopping);
        }
    }

    // 100,000 PUBs of 16 bytes to the caller's inbox, packed into 64 KiB sends. The reply subject array is one
    // allocation per stream of 100,000 messages.
    private async Task StreamAsync(byte[] reply, CancellationToken stopping)
    {
        var message = _message;
        for (long i = 0; i < BenchSizes.StreamMessages; i++)
        {
            if (OutputBytes - _outLength < reply.Length + 32 + BenchSizes.StreamMessageBytes)
            {
                await FlushAsync(stopping);
            }

            BinaryPrimitives.WriteInt64LittleEndian(message, i);
            AppendPub(reply, message);
        }

        await FlushAsync(stopping);
    }

    private async ValueTask ReserveAsync(int bytes, CancellationToken stopping)
    {
        if (OutputBytes - _outLength < bytes)
        {
            await FlushAsync(stopping);
        }
    }

    private async ValueTask FlushAsync(CancellationToken stopping)
    {
        if (_outLength > 0)
        {
            await _connection.SendAsync(_out.AsMemory(0, _outLength), stopping);
            _outLength = 0;
        }
    }

    // PUB <subject> <size>\r\n<payload>\r\n; the caller has made room.
    private void AppendPub(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> payload)
    {
        var output = _out.AsSpan(_outLength);
        "PUB "u8.CopyTo(output);
        var at = 4;
        subject.CopyTo(output[at..]);
        at += subject.Length;
        output[at++] = (byte)' ';
        Utf8Formatter.TryFormat(payload.Length, output[at..], out var written);
        at += written;
        "\r\n"u8.CopyTo(output[at..]);
        at += 2;
        payload.CopyTo(output[at..]);
        at += payload.Length;
        "\r\n"u8.CopyTo(output[at..]);
        _outLength += at + 2;
    }
}
