using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Plexus.Bench;

/// <summary>
/// One plain socket to a nats-server speaking the NATS text protocol, as little of it as the nats-raw baseline needs:
/// INFO, CONNECT, SUB, PUB, MSG, PING/PONG. The receive buffer is allocated once; callers parse in place and consume.
/// </summary>
internal sealed class NatsRawConnection : IDisposable
{
    private static readonly byte[] Pong = "PONG\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly byte[] _in;
    private int _head;
    private int _tail;

    private NatsRawConnection(Socket socket, int receiveBufferBytes)
    {
        _socket = socket;
        _in = new byte[receiveBufferBytes];
    }

    /// <summary>The server's <c>max_payload</c>, from its INFO.</summary>
    public int MaxPayload { get; private set; } = 1024 * 1024;

    /// <summary>Bytes received and not consumed yet.</summary>
    public int Buffered => _tail - _head;

    /// <summary>The received bytes not consumed yet.</summary>
    public ReadOnlySpan<byte> Span => _in.AsSpan(_head, _tail - _head);

    /// <summary>
    /// Connects, reads INFO, sends CONNECT, then <paramref name="setup"/> (SUB lines) and a PING, and returns once
    /// the PONG is back: by then the server has processed the subscriptions.
    /// </summary>
    /// <exception cref="BenchFailedException">The server wants TLS, or refused the connection (<c>-ERR</c>).</exception>
    public static async Task<NatsRawConnection> ConnectAsync(Uri server, int receiveBufferBytes, string setup, CancellationToken cancellationToken)
    {
        // Only loopback gets here (BenchNatsServer checks): an IP literal, or localhost.
        var port = server.Port > 0 ? server.Port : 4222;
        var endPoint = new IPEndPoint(IPAddress.TryParse(server.IdnHost, out var ip) ? ip : IPAddress.Loopback, port);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new NatsRawConnection(socket, receiveBufferBytes);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            var info = await connection.ReadLineAsync(cancellationToken);
            if (!info.StartsWith("INFO ", StringComparison.Ordinal))
            {
                throw new IOException($"nats-server greeted with '{info}' instead of INFO.");
            }

            if (info.Contains("\"tls_required\":true", StringComparison.Ordinal))
            {
                throw new BenchFailedException($"{BenchNames.NatsRaw}: the nats-server at {server.Authority} requires TLS; the baseline speaks plain NATS only. Fix: point the bench at a server without TLS, or leave --{BenchNatsServer.UrlKey} out and the bench starts one.");
            }

            connection.MaxPayload = ReadMaxPayload(info) ?? connection.MaxPayload;
            var connect = $"CONNECT {{\"verbose\":false,\"pedantic\":false,\"headers\":false,\"protocol\":1,\"name\":\"plexus-bench-nats-raw\",\"lang\":\".NET\",\"version\":\"1.0.0\"{Credentials(server)}}}\r\n{setup}PING\r\n";
            await RawSockets.SendAllAsync(socket, Encoding.UTF8.GetBytes(connect), cancellationToken);
            while (true)
            {
                var line = await connection.ReadLineAsync(cancellationToken);
                if (line == "PONG")
                {
                    return connection;
                }

                if (line.StartsWith("-ERR", StringComparison.Ordinal))
                {
                    throw new BenchFailedException($"{BenchNames.NatsRaw}: nats-server at {server.Authority} refused the connection: {line}");
                }
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Sends bytes as they are.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        RawSockets.SendAllAsync(_socket, bytes, cancellationToken);

    /// <summary>Drops <paramref name="count"/> received bytes.</summary>
    public void Consume(int count) => _head += count;

    /// <summary>Receives more bytes behind what is buffered.</summary>
    /// <exception cref="IOException">The server closed the connection.</exception>
    public async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_head == _tail)
        {
            _head = _tail = 0;
        }
        else if (_tail == _in.Length)
        {
            if (_head == 0)
            {
                throw new InvalidDataException($"A NATS message does not fit the {_in.Length}-byte receive buffer.");
            }

            // Only the unparsed tail moves, and only when the buffer is full.
            _in.AsSpan(_head, _tail - _head).CopyTo(_in);
            _tail -= _head;
            _head = 0;
        }

        var n = await _socket.ReceiveAsync(_in.AsMemory(_tail), SocketFlags.None, cancellationToken);
        if (n == 0)
        {
            throw new IOException("nats-server closed the connection.");
        }

        _tail += n;
    }

    /// <summary>
    /// Parses the next MSG control line at the head of the buffer, without consuming it (its payload may not be in
    /// yet). Other operations before it are handled and consumed: PING is answered, PONG, +OK and INFO are skipped.
    /// </summary>
    /// <returns>False when more bytes are needed.</returns>
    /// <exception cref="IOException">The server sent <c>-ERR</c>.</exception>
    /// <exception cref="InvalidDataException">A control line is malformed.</exception>
    public bool TryReadMsg(out NatsRawMsg msg)
    {
        while (true)
        {
            var buffered = _in.AsSpan(_head, _tail - _head);
            var eol = buffered.IndexOf("\r\n"u8);
            if (eol < 0)
            {
                msg = default;
                return false;
            }

            var line = buffered[..eol];
            if (line.StartsWith("MSG "u8))
            {
                msg = ParseMsg(line);
                return true;
            }

            if (line.SequenceEqual("PING"u8))
            {
                // Rare (minutes apart): a blocking send of six bytes is fine here.
                _socket.Send(Pong);
            }
            else if (line.StartsWith("-ERR"u8))
            {
                throw new IOException($"nats-server: {Encoding.UTF8.GetString(line)}");
            }

            _head += eol + 2;
        }
    }

    public void Dispose() => _socket.Dispose();

    private static NatsRawMsg ParseMsg(ReadOnlySpan<byte> line)
    {
        // MSG <subject> <sid> [reply-to] <size>
        var offset = 4;
        var subjectEnd = line[offset..].IndexOf((byte)' ');
        if (subjectEnd <= 0)
        {
            throw Malformed(line);
        }

        offset += subjectEnd + 1;
        var sidEnd = line[offset..].IndexOf((byte)' ');
        if (sidEnd <= 0 || !Utf8Parser.TryParse(line.Slice(offset, sidEnd), out int sid, out var used) || used != sidEnd)
        {
            throw Malformed(line);
        }

        offset += sidEnd + 1;
        var replyOffset = offset;
        var replyLength = 0;
        var replyEnd = line[offset..].IndexOf((byte)' ');
        if (replyEnd >= 0)
        {
            replyLength = replyEnd;
            offset += replyEnd + 1;
        }

        if (!Utf8Parser.TryParse(line[offset..], out int size, out used) || used != line.Length - offset || size < 0)
        {
            throw Malformed(line);
        }

        return new NatsRawMsg(line.Length + 2, sid, replyOffset, replyLength, size);
    }

    private static InvalidDataException Malformed(ReadOnlySpan<byte> line) => new($"nats-server sent a malformed line: '{Encoding.UTF8.GetString(line)}'.");

    private static int? ReadMaxPayload(string info)
    {
        const string Key = "\"max_payload\":";
        var at = info.IndexOf(Key, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var digits = info.AsSpan(at + Key.Length);
        var end = 0;
        while (end < digits.Length && char.IsAsciiDigit(digits[end]))
        {
            end++;
        }

        return int.TryParse(digits[..end], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;
    }

    // nats://user:password@host or nats://token@host, as the NATS transport reads its Url.
    private static string Credentials(Uri server)
    {
        if (server.UserInfo.Length == 0)
        {
            return string.Empty;
        }

        var colon = server.UserInfo.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return $",\"auth_token\":\"{Json(server.UserInfo)}\"";
        }

        return $",\"user\":\"{Json(server.UserInfo[..colon])}\",\"pass\":\"{Json(server.UserInfo[(colon + 1)..])}\"";

        static string Json(string escaped) => JsonEncodedText.Encode(Uri.UnescapeDataString(escaped)).ToString();
    }

    // Only for the handshake: a string per line. What follows the line stays buffered.
    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var eol = _in.AsSpan(_head, _tail - _head).IndexOf("\r\n"u8);
            if (eol >= 0)
            {
                var line = Encoding.UTF8.GetString(_in, _head, eol);
                _head += eol + 2;
                return line;
            }

            await FillAsync(cancellationToken);
        }
    }
}
