using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Cluster;

namespace Plexus.Host.Tests.Cluster;

/// <summary>The join protocol between a real seed listener and a real joining client, in one process over loopback.</summary>
public sealed class JoinProtocolTests : IAsyncDisposable
{
    private static readonly ClusterOptions Options = new() { Seed = true, CertificateLifetime = TimeSpan.FromHours(1) };
    private readonly ClusterToken _token = ClusterToken.Generate();
    private readonly ClusterAuthority _authority = ClusterAuthority.Create("test", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
    private readonly ClusterIdentity _seedIdentity = new(Microsoft.Extensions.Options.Options.Create(Options));
    private readonly SeedServer _seed;

    public JoinProtocolTests()
    {
        var (key, request) = ClusterAuthority.NewRequest("seed");
        using (key)
        {
            using var issued = _authority.Issue(request, "seed", [], TimeSpan.FromHours(1), DateTimeOffset.UtcNow);
            _seedIdentity.Set(new ClusterCertificate(ClusterAuthority.WithKey(issued, key), X509CertificateLoader.LoadCertificate(_authority.Certificate.RawData)));
        }

        _seed = new SeedServer(_authority, _token, "c1", Options, _seedIdentity, new IPEndPoint(IPAddress.Loopback, 0), TimeProvider.System, NullLogger.Instance);
        _seed.Start();
    }

    private SeedClient Client() => new("127.0.0.1", _seed.LocalEndPoint.Port, new ClusterIdentity(Microsoft.Extensions.Options.Options.Create(new ClusterOptions { Join = "x:1" })));

    [Fact]
    public async Task A_node_with_the_token_gets_a_certificate_for_its_own_key_that_chains_to_the_ca()
    {
        var (key, request) = ClusterAuthority.NewRequest("alpha");
        using (key)
        {
            var (welcome, cluster) = await Client().JoinAsync(_token, "alpha", "join", new JoinRequest(request, ["10.1.2.3", "alpha.internal"], ["tcp://10.1.2.3:7400/"]), CancellationToken.None);

            Assert.Equal("c1", cluster);
            using var issued = X509Certificate2.CreateFromPem(welcome.Certificate!);
            using var pub = issued.GetECDsaPublicKey()!;
            Assert.Equal(key.ExportSubjectPublicKeyInfo(), pub.ExportSubjectPublicKeyInfo());
            Assert.Equal("alpha", issued.GetNameInfo(X509NameType.SimpleName, false));
            var certificate = new ClusterCertificate(ClusterAuthority.WithKey(issued, key), X509Certificate2.CreateFromPem(welcome.Authority!));
            Assert.True(certificate.TryVerifyPeer(certificate.Certificate, out var problem), problem);
            Assert.Contains(welcome.Members, m => m.Node == "alpha" && m.Addresses.SequenceEqual(["tcp://10.1.2.3:7400/"]));
        }
    }

    [Fact]
    public async Task A_node_with_another_token_stops_before_sending_its_proof_and_both_sides_learn_why()
    {
        var (key, request) = ClusterAuthority.NewRequest("intruder");
        using (key)
        {
            var refused = await Assert.ThrowsAsync<ClusterJoinRefusedException>(() => Client().JoinAsync(ClusterToken.Generate(), "intruder", "join", new JoinRequest(request, [], []), CancellationToken.None));

            Assert.Contains("does not know this node's cluster token", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(_seed.Members.Snapshot(), m => m.Node == "intruder");
        }
    }

    [Fact]
    public async Task A_node_that_skips_the_seeds_proof_and_sends_a_wrong_one_is_refused_by_the_seed()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _seed.LocalEndPoint.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(ClusterWire.JoinMagic);
        await ClusterWire.WriteAsync(stream, new JoinHello(1, "join", "forger", RandomNumberGenerator.GetBytes(32)), CancellationToken.None);
        var challenge = await ClusterWire.ReadAsync<JoinChallenge>(stream, CancellationToken.None);
        Assert.NotNull(challenge!.Proof);

        await ClusterWire.WriteAsync(stream, new JoinProof(RandomNumberGenerator.GetBytes(32), [1, 2, 3], null), CancellationToken.None);
        var answer = await ClusterWire.ReadAsync<JoinAnswer>(stream, CancellationToken.None);

        Assert.Null(answer!.Sealed);
        Assert.Contains("cluster token is wrong", answer.Refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_changed_on_the_way_is_not_used()
    {
        // A relay that changes one character of the sealed welcome (the seed's second frame), keeping it valid base64.
        using var relay = new TcpListener(IPAddress.Loopback, 0);
        relay.Start();
        var relaying = Task.Run(async () =>
        {
            using var inbound = await relay.AcceptTcpClientAsync();
            using var outbound = new TcpClient();
            await outbound.ConnectAsync(IPAddress.Loopback, _seed.LocalEndPoint.Port);
            var toSeed = inbound.GetStream().CopyToAsync(outbound.GetStream());
            var fromSeed = outbound.GetStream();
            var toNode = inbound.GetStream();
            var buffer = new byte[65536];
            var frames = 0;
            int n;
            while ((n = await fromSeed.ReadAsync(buffer)) > 0)
            {
                if (++frames == 2)
                {
                    var at = System.Text.Encoding.ASCII.GetString(buffer, 0, n).IndexOf("\"sealed\":\"", StringComparison.Ordinal) + 20;
                    buffer[at] = buffer[at] == (byte)'A' ? (byte)'B' : (byte)'A';
                }

                await toNode.WriteAsync(buffer.AsMemory(0, n));
            }

            await toSeed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

        var client = new SeedClient("127.0.0.1", ((IPEndPoint)relay.LocalEndpoint).Port, new ClusterIdentity(Microsoft.Extensions.Options.Options.Create(new ClusterOptions { Join = "x:1" })));
        var (key, request) = ClusterAuthority.NewRequest("alpha");
        using (key)
        {
            var error = await Assert.ThrowsAsync<ClusterJoinRefusedException>(() => client.JoinAsync(_token, "alpha", "join", new JoinRequest(request, [], []), CancellationToken.None));
            Assert.Contains("was not sealed with this join's key", error.Message, StringComparison.Ordinal);
        }

        relay.Stop();
        await Task.WhenAny(relaying, Task.Delay(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Garbage_and_oversized_frames_on_the_port_are_refused_and_the_next_join_still_works()
    {
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, _seed.LocalEndPoint.Port);
            await tcp.GetStream().WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            Assert.Equal(0, await tcp.GetStream().ReadAsync(new byte[16]));
        }

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, _seed.LocalEndPoint.Port);
            await tcp.GetStream().WriteAsync(ClusterWire.JoinMagic);
            await tcp.GetStream().WriteAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff });
            Assert.Equal(0, await tcp.GetStream().ReadAsync(new byte[16]));
        }

        var (key, request) = ClusterAuthority.NewRequest("after");
        using (key)
        {
            var (welcome, _) = await Client().JoinAsync(_token, "after", "join", new JoinRequest(request, [], []), CancellationToken.None);
            Assert.NotNull(welcome.Certificate);
        }
    }

    [Fact]
    public async Task The_members_purpose_reads_the_table_without_joining()
    {
        var (welcome, _) = await Client().JoinAsync(_token, "cli", "members", new JoinRequest(null, [], []), CancellationToken.None);

        Assert.Null(welcome.Certificate);
        Assert.DoesNotContain(_seed.Members.Snapshot(), m => m.Node == "cli");
    }

    public async ValueTask DisposeAsync()
    {
        await _seed.DisposeAsync();
        _authority.Dispose();
    }
}
