using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Plexus.Discovery.Etcd.Tests.Support;

namespace Plexus.Discovery.Etcd.Tests;

/// <summary>etcd with user/password authentication, and etcd serving TLS that requires client certificates.</summary>
public sealed class SecurityTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "secured");

    [Fact(Timeout = 60_000)]
    public async Task A_user_with_a_role_on_the_prefix_registers_lists_and_watches_and_a_wrong_password_is_reported()
    {
        await using var etcd = await EtcdProcess.StartAsync();
        using (var setup = TestEtcd.Client(etcd.ClientUrl))
        {
            // etcd needs a root user with the root role before it enables authentication; Plexus gets a user whose
            // role may read and write its prefix only.
            await setup.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "root-pw" });
            await setup.RoleAddAsync(new AuthRoleAddRequest { Name = "root" });
            await setup.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await setup.RoleAddAsync(new AuthRoleAddRequest { Name = "plexus" });
            await setup.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest
            {
                Name = "plexus",
                Perm = new Authpb.Permission
                {
                    PermType = Authpb.Permission.Types.Type.Readwrite,
                    Key = ByteString.CopyFromUtf8("/plexus-test/"),
                    RangeEnd = ByteString.CopyFrom(EtcdKeyLayout.RangeEnd("/plexus-test/")),
                },
            });
            await setup.UserAddAsync(new AuthUserAddRequest { Name = "plexus", Password = "s3cret" });
            await setup.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "plexus", Role = "plexus" });
            await setup.AuthEnableAsync(new AuthEnableRequest());
        }

        await using var node = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl, o => (o.User, o.Password) = ("plexus", "s3cret"));
        await using var registered = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var watch = new WatchReader(node, Endpoint);
        Assert.Equal(DiscoveryEventKind.Added, (await watch.NextAsync(TestEtcd.Wait)).Kind);
        await registered.UpdateAsync(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.5" }, CancellationToken.None);
        Assert.Equal(0.5, (await watch.NextAsync(TestEtcd.Wait)).Instance.Load);
        Assert.Single(await node.ListAsync(Endpoint, CancellationToken.None));
        Assert.Equal(HealthStatus.Healthy, node.Health.Status);

        // etcd refuses anonymous reads now, so what the node wrote is proof the credentials were used.
        using (var root = new EtcdClient(etcd.ClientUrl, "root", "root-pw"))
        {
            Assert.Equal(node.Session.LeaseId, await TestEtcd.LeaseOfAsync(root, $"/plexus-test/ns/comp/secured/{new InstanceId(1)}"));
        }

        var wrongLog = new RecordingLogger();
        await using var wrong = TestEtcd.Provider(wrongLog, etcd.ClientUrl, o => (o.User, o.Password) = ("plexus", "wrong"));
        var refused = await Assert.ThrowsAsync<PlexusException>(() => wrong.ListAsync(Endpoint, CancellationToken.None).AsTask());
        Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);
        Assert.Contains("refused the credentials", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Plexus:Discovery:Etcd:Password", refused.Message, StringComparison.Ordinal);

        await using var pending = await wrong.RegisterAsync(TestEtcd.Instance(Endpoint, 2), TimeSpan.FromSeconds(10), CancellationToken.None);
        await TestEtcd.EventuallyAsync(() => wrong.Health.Status == HealthStatus.Degraded, "a node with a wrong password reports discovery degraded");
        Assert.Contains("refused the credentials", wrong.Health.Description, StringComparison.Ordinal);
        Assert.Equal(1, wrongLog.Count(2301));
    }

    [Fact(Timeout = 60_000)]
    public async Task Tls_with_a_client_certificate_works_and_a_missing_certificate_or_a_foreign_ca_is_refused()
    {
        var directory = Directory.CreateTempSubdirectory("plexus-etcd-tls-").FullName;
        try
        {
            var files = EtcdTlsFiles.Write(directory);
            var foreign = EtcdTlsFiles.Write(directory, prefix: "foreign-");
            await using var etcd = await EtcdProcess.StartAsync(tls: files);
            Assert.StartsWith("https://", etcd.ClientUrl, StringComparison.Ordinal);

            await using var node = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl, o =>
            {
                o.CaFile = files.Ca;
                o.CertFile = files.ClientCert;
                o.KeyFile = files.ClientKey;
            });
            await using var registered = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 1), TimeSpan.FromSeconds(10), CancellationToken.None);
            await using var watch = new WatchReader(node, Endpoint);
            Assert.Equal(DiscoveryEventKind.Added, (await watch.NextAsync(TestEtcd.Wait)).Kind);
            await using var second = await node.RegisterAsync(TestEtcd.Instance(Endpoint, 2), TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal((DiscoveryEventKind.Added, 2ul), ((await watch.NextAsync(TestEtcd.Wait)) is var e ? (e.Kind, e.Instance.Id.Value) : default));
            Assert.Equal(2, (await node.ListAsync(Endpoint, CancellationToken.None)).Count);
            Assert.NotEqual(0, node.Session.LeaseId);

            // Without a client certificate etcd refuses the connection.
            await using var anonymous = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl, o => o.CaFile = files.Ca);
            var refused = await Assert.ThrowsAsync<PlexusException>(() => anonymous.ListAsync(Endpoint, CancellationToken.None).AsTask());
            Assert.Equal(PlexusErrorCode.Unavailable, refused.Code);

            // A server certificate from another CA is refused by the node, and the message says which setting to check.
            await using var distrustful = TestEtcd.Provider(new RecordingLogger(), etcd.ClientUrl, o =>
            {
                o.CaFile = foreign.Ca;
                o.CertFile = files.ClientCert;
                o.KeyFile = files.ClientKey;
            });
            var distrusted = await Assert.ThrowsAsync<PlexusException>(() => distrustful.ListAsync(Endpoint, CancellationToken.None).AsTask());
            Assert.Contains("TLS handshake", distrusted.Message, StringComparison.Ordinal);
            Assert.Contains("Plexus:Discovery:Etcd:CaFile", distrusted.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
