using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Plexus.Transport.Quic.Connections;

namespace Plexus.Transport.Quic.Tests.Connections;

/// <summary>The QUIC engine on its own: handshakes with verification, streams both ways, flow control, close reasons.</summary>
public sealed class EngineTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task A_client_and_a_listener_complete_a_verified_handshake_and_echo_on_a_stream()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var serving = EchoOneStreamAsync(listener, timeout.Token);

        await using var client = await QuicConnection.ConnectAsync(
            new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);
        await stream.Output.WriteAsync(payload, timeout.Token);
        stream.Output.Complete();

        var echoed = await ReadAllAsync(stream.Input, timeout.Token);
        Assert.Equal(payload, echoed);
        await serving;
    }

    [Fact]
    public async Task A_client_refuses_a_server_whose_certificate_another_CA_signed()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.OtherCaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var failure = await Assert.ThrowsAsync<QuicConnectionClosedException>(async () =>
            await QuicConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token));
        Assert.Equal(QuicCloseKind.Tls, failure.Info.Kind);
        Assert.Contains("not signed by a CA this side trusts", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutual_TLS_refuses_a_client_without_a_certificate_saying_so()
    {
        await using var listener = StartListener(requireClientCertificate: true);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var failure = await Assert.ThrowsAsync<QuicConnectionClosedException>(async () =>
        {
            await using var connection = await QuicConnection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
            // TLS 1.3: the client may finish before the server has judged its (missing) certificate.
            var stream = await connection.OpenBidirectionalStreamAsync(timeout.Token);
            await stream.Output.WriteAsync(new byte[] { 1 }, timeout.Token);
            await connection.Closed.WaitAsync(timeout.Token);
            await stream.Input.ReadAsync(timeout.Token);
        });
        Assert.Contains("certificate_required", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_64_MiB_payload_crosses_a_relay_that_drops_and_reorders_five_percent_complete_and_in_order()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        await using var relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), seed: 7, dropProbability: 0.05, reorderProbability: 0.05);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var serving = EchoOneStreamAsync(listener, timeout.Token);

        await using var client = await QuicConnection.ConnectAsync(relay.EndPoint, "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
        var payload = new byte[64 * 1024 * 1024];
        new Random(3).NextBytes(payload);
        var reading = ReadAllAsync(stream.Input, timeout.Token);
        for (var offset = 0; offset < payload.Length; offset += 1024 * 1024)
        {
            await stream.Output.WriteAsync(payload.AsMemory(offset, 1024 * 1024), timeout.Token);
        }

        stream.Output.Complete();
        var echoed = await reading;
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from those sent");
        Assert.True(relay.Dropped > 100, $"the relay should have dropped datagrams: {relay}");
        Assert.True(relay.Reordered > 100, $"the relay should have reordered datagrams: {relay}");
        await serving;
    }

    [Fact]
    public async Task A_peer_that_vanishes_ends_the_connection_within_the_idle_timeout()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        await using var relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port));
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var settings = new QuicConnectionSettings { IdleTimeout = TimeSpan.FromSeconds(2), KeepAliveInterval = TimeSpan.FromMilliseconds(500) };
        await using var client = await QuicConnection.ConnectAsync(relay.EndPoint, "localhost", clientTls, settings, NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
        await stream.Output.WriteAsync(new byte[] { 1, 2, 3 }, timeout.Token);

        relay.Blackhole = true;
        var started = TimeProvider.System.GetTimestamp();
        var info = await client.Closed.WaitAsync(timeout.Token);

        Assert.Equal(QuicCloseKind.IdleTimeout, info.Kind);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(6), "the connection should end within about the idle timeout");
        await Assert.ThrowsAsync<QuicConnectionClosedException>(async () => await stream.Input.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task Garbage_datagrams_to_the_port_leave_a_healthy_connection_beside_them_untouched()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var serving = EchoOneStreamAsync(listener, timeout.Token);
        await using var client = await QuicConnection.ConnectAsync(
            new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);

        using (var garbage = new System.Net.Sockets.UdpClient())
        {
            var random = new Random(5);
            for (var i = 0; i < 2000; i++)
            {
                var datagram = new byte[random.Next(1, 1500)];
                random.NextBytes(datagram);
                if (i % 3 == 0)
                {
                    datagram[0] = 0xC0; // a long header with a random version and ids
                }

                await garbage.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), timeout.Token);
            }
        }

        var payload = new byte[100_000];
        Random.Shared.NextBytes(payload);
        await stream.Output.WriteAsync(payload, timeout.Token);
        stream.Output.Complete();
        Assert.Equal(payload, await ReadAllAsync(stream.Input, timeout.Token));
        Assert.False(client.IsClosed);
        await serving;
    }

    [Fact]
    public async Task Ten_thousand_concurrent_streams_on_one_connection_each_complete()
    {
        const int Streams = 10_000;
        await using var listener = QuicListener.Start(
            new IPEndPoint(IPAddress.Loopback, 0), ServerTls(false), new QuicConnectionSettings { MaxInboundBidirectionalStreams = Streams }, NullLogger.Instance, TimeProvider.System);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var serving = Task.Run(async () =>
        {
            var connection = await listener.AcceptConnectionAsync(timeout.Token);
            var echoes = new List<Task>(Streams);
            for (var i = 0; i < Streams; i++)
            {
                var stream = await connection.AcceptInboundStreamAsync(timeout.Token);
                echoes.Add(EchoAsync(stream, timeout.Token));
            }

            await Task.WhenAll(echoes);
        });

        await using var client = await QuicConnection.ConnectAsync(
            new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), "localhost", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var opened = new List<QuicStream>(Streams);
        for (var i = 0; i < Streams; i++)
        {
            var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
            await stream.Output.WriteAsync(BitConverter.GetBytes(i), timeout.Token);
            opened.Add(stream);
        }

        // Every stream is open at once before any finishes: only now do they end their requests.
        foreach (var stream in opened)
        {
            stream.Output.Complete();
        }

        for (var i = 0; i < Streams; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(await ReadAllAsync(opened[i].Input, timeout.Token)));
        }

        await serving;
    }

    [Fact]
    public async Task A_connection_over_IPv6_completes_and_echoes()
    {
        var tls = ServerTls(false);
        await using var listener = QuicListener.Start(new IPEndPoint(IPAddress.IPv6Loopback, 0), tls, new QuicConnectionSettings { MaxInboundBidirectionalStreams = 10 }, NullLogger.Instance, TimeProvider.System);
        using var clientTls = QuicTlsCredentials.CreateClient(File.ReadAllText(_certificates.CaPath), null, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var serving = EchoOneStreamAsync(listener, timeout.Token);

        await using var client = await QuicConnection.ConnectAsync(
            new IPEndPoint(IPAddress.IPv6Loopback, listener.LocalEndPoint.Port), "::1", clientTls, new QuicConnectionSettings(), NullLogger.Instance, TimeProvider.System, timeout.Token);
        var stream = await client.OpenBidirectionalStreamAsync(timeout.Token);
        await stream.Output.WriteAsync(new byte[] { 6, 6, 6 }, timeout.Token);
        stream.Output.Complete();
        Assert.Equal(new byte[] { 6, 6, 6 }, await ReadAllAsync(stream.Input, timeout.Token));
        await serving;
    }

    [Fact]
    public async Task An_Initial_of_an_unknown_QUIC_version_is_answered_with_Version_Negotiation_naming_version_1()
    {
        await using var listener = StartListener(requireClientCertificate: false);
        using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // A long header: form bit, version 0x1a2a3a4a (reserved for negotiation tests), 8-byte ids, padded to 1200.
        var initial = new byte[1200];
        initial[0] = 0xC0;
        initial[1] = 0x1a;
        initial[2] = 0x2a;
        initial[3] = 0x3a;
        initial[4] = 0x4a;
        initial[5] = 8;
        for (var i = 0; i < 8; i++)
        {
            initial[6 + i] = (byte)(0x10 + i);
        }

        initial[14] = 8;
        for (var i = 0; i < 8; i++)
        {
            initial[15 + i] = (byte)(0x20 + i);
        }

        await udp.SendAsync(initial, new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), timeout.Token);
        var reply = (await udp.ReceiveAsync(timeout.Token)).Buffer;

        Assert.Equal(0x80, reply[0] & 0x80);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, reply[1..5]);
        var destinationLength = reply[5];
        Assert.Equal(new byte[] { 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27 }, reply[6..(6 + destinationLength)]);
        var versionsAt = 6 + destinationLength + 1 + reply[6 + destinationLength];
        var versions = new List<uint>();
        for (var at = versionsAt; at + 4 <= reply.Length; at += 4)
        {
            versions.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(at)));
        }

        Assert.Contains(1u, versions);
    }

    private static async Task EchoAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        var all = await ReadAllAsync(stream.Input, cancellationToken);
        await stream.Output.WriteAsync(all, cancellationToken);
        stream.Output.Complete();
    }

    private QuicTlsCredentials ServerTls(bool requireClientCertificate) => QuicTlsCredentials.CreateServer(
        File.ReadAllText(_certificates.ServerCertificatePath), File.ReadAllText(_certificates.ServerKeyPath),
        File.ReadAllText(_certificates.CaPath), requireClientCertificate);

    private QuicListener StartListener(bool requireClientCertificate)
    {
        var tls = QuicTlsCredentials.CreateServer(
            File.ReadAllText(_certificates.ServerCertificatePath), File.ReadAllText(_certificates.ServerKeyPath),
            File.ReadAllText(_certificates.CaPath), requireClientCertificate);
        return QuicListener.Start(new IPEndPoint(IPAddress.Loopback, 0), tls, new QuicConnectionSettings { MaxInboundBidirectionalStreams = 100 }, NullLogger.Instance, TimeProvider.System);
    }

    private static async Task EchoOneStreamAsync(QuicListener listener, CancellationToken cancellationToken)
    {
        var connection = await listener.AcceptConnectionAsync(cancellationToken);
        var stream = await connection.AcceptInboundStreamAsync(cancellationToken);
        while (true)
        {
            var result = await stream.Input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                await stream.Output.WriteAsync(segment, cancellationToken);
            }

            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        stream.Output.Complete();
        await stream.Completed.WaitAsync(cancellationToken);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var all = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all.WrittenSpan.ToArray();
            }
        }
    }
}
