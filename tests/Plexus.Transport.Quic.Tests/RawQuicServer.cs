using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// A server made of the engine and the protocol's pieces, to play an older or broken peer against the real client: it
/// speaks the versions it is given, exchanges SETTINGS, and writes whatever frames a test wants on a request's stream.
/// </summary>
internal sealed class RawQuicServer : IAsyncDisposable
{
    private readonly QuicListener _listener;
    private readonly QuicTlsCredentials _credentials;
    private readonly IFrameCodec _codec = TestCodecs.NewTwoPart();
    private QuicConnection? _connection;

    private RawQuicServer(QuicListener listener, QuicTlsCredentials credentials)
    {
        _listener = listener;
        _credentials = credentials;
        Address = new Uri($"quic://127.0.0.1:{listener.LocalEndPoint.Port}");
    }

    public Uri Address { get; }

    /// <summary>The connection's version, once one is accepted.</summary>
    public byte Version => QuicWire.VersionOf(_connection!.Alpn);

    public static async Task<RawQuicServer> StartAsync(TestCertificates certificates, byte version)
    {
        var credentials = QuicTlsCredentials.CreateServer(
            await File.ReadAllTextAsync(certificates.ServerCertificatePath), await File.ReadAllTextAsync(certificates.ServerKeyPath), null, false);
        var settings = new QuicConnectionSettings { MaxInboundBidirectionalStreams = 100, Alpns = QuicWire.Alpns(version) };
        var listener = QuicListener.Start(new IPEndPoint(IPAddress.Loopback, 0), credentials, settings, NullLogger.Instance, TimeProvider.System);
        return new RawQuicServer(listener, credentials);
    }

    /// <summary>Accepts a connection and answers its SETTINGS.</summary>
    public async Task AcceptAsync()
    {
        _connection = await _listener.AcceptConnectionAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        var control = await _connection.AcceptInboundStreamAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        var offered = await QuicSettings.ReadAsync(control.Input, Version, CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        var own = await _connection.OpenUnidirectionalStreamAsync(CancellationToken.None);
        new QuicSettings(offered.CodecName, 65536, 65536).Write(own.Output, Version);
        await own.Output.FlushAsync();
    }

    /// <summary>Accepts a request stream and reads its request to the client's FIN.</summary>
    public async Task<QuicStream> AcceptRequestAsync()
    {
        var stream = await _connection!.AcceptInboundStreamAsync(CancellationToken.None).AsTask().WaitAsync(QuicEcho.Bound);
        while (true)
        {
            var result = await stream.Input.ReadAsync().AsTask().WaitAsync(QuicEcho.Bound);
            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return stream;
            }
        }
    }

    /// <summary>Writes a frame with <paramref name="header"/> and <paramref name="body"/> to <paramref name="stream"/> and hands it to QUIC.</summary>
    public async Task WriteAsync(QuicStream stream, byte[] header, byte[] body)
    {
        _codec.Write(header, new ReadOnlySequence<byte>(body), stream.Output);
        await stream.Output.FlushAsync();
    }

    /// <summary>A MESSAGES frame header declaring <paramref name="count"/> messages.</summary>
    public static byte[] MessagesHeader(uint count)
    {
        var header = new byte[QuicWire.MessagesHeaderLength];
        header[0] = QuicWire.Messages;
        BitConverter.TryWriteBytes(header.AsSpan(QuicWire.CommonHeaderLength), count);
        return header;
    }

    /// <summary>A MESSAGES frame body of <paramref name="messages"/>, each behind its u32 length.</summary>
    public static byte[] MessagesBody(params byte[][] messages)
    {
        var body = new List<byte>();
        foreach (var message in messages)
        {
            body.AddRange(BitConverter.GetBytes((uint)message.Length));
            body.AddRange(message);
        }

        return [.. body];
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        await _listener.DisposeAsync();
        _credentials.Dispose();
    }
}
