using System.Buffers;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// One parsed server operation. Every field is a slice of the read buffer, valid only until the reader advances
/// past it: a message handler copies what it keeps.
/// </summary>
/// <param name="Op">The operation.</param>
/// <param name="Subject">MSG/HMSG: the subject the message was published to.</param>
/// <param name="Sid">MSG/HMSG: the subscription id it was delivered for.</param>
/// <param name="ReplyTo">MSG/HMSG: the reply subject, empty when none.</param>
/// <param name="Headers">HMSG: the whole header block (status line, headers, blank line).</param>
/// <param name="Payload">MSG/HMSG: the payload; INFO: the JSON; -ERR: the error text without quotes.</param>
internal readonly record struct NatsFrame(
    NatsOp Op,
    ReadOnlySequence<byte> Subject,
    long Sid,
    ReadOnlySequence<byte> ReplyTo,
    ReadOnlySequence<byte> Headers,
    ReadOnlySequence<byte> Payload);
