using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Plexus.Hosting.Cluster;

namespace Plexus.Host.Tests.Cluster;

public sealed class ClusterAuthorityTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void The_ca_decides_the_extensions_whatever_the_request_asks_for()
    {
        using var authority = ClusterAuthority.Create("t", TimeSpan.FromDays(1), Now);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var greedy = new CertificateRequest("CN=greedy", key, HashAlgorithmName.SHA256);
        greedy.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));

        using var issued = authority.Issue(greedy.CreateSigningRequest(), "node-1", ["10.0.0.9", "node-1.internal", "not a name!"], TimeSpan.FromHours(1), Now);

        Assert.Equal("node-1", issued.GetNameInfo(X509NameType.SimpleName, false));
        Assert.False(issued.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        var usages = issued.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages);
        var names = issued.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("node-1.internal", names.EnumerateDnsNames());
        Assert.Contains(System.Net.IPAddress.Parse("10.0.0.9"), names.EnumerateIPAddresses());
    }

    [Fact]
    public void A_request_whose_signature_is_wrong_is_refused()
    {
        using var authority = ClusterAuthority.Create("t", TimeSpan.FromDays(1), Now);
        var (key, request) = ClusterAuthority.NewRequest("n");
        key.Dispose();
        request[^5] ^= 0xff;

        Assert.ThrowsAny<CryptographicException>(() => authority.Issue(request, "n", [], TimeSpan.FromHours(1), Now));
    }

    [Fact]
    public void A_certificate_never_outlives_its_ca()
    {
        using var authority = ClusterAuthority.Create("t", TimeSpan.FromHours(2), Now);
        var (key, request) = ClusterAuthority.NewRequest("n");
        using (key)
        {
            using var issued = authority.Issue(request, "n", [], TimeSpan.FromDays(7), Now);
            Assert.True(issued.NotAfter <= authority.Certificate.NotAfter);
        }
    }

    [Fact]
    public void A_certificate_from_another_ca_or_self_made_is_not_a_member()
    {
        using var ours = ClusterAuthority.Create("ours", TimeSpan.FromDays(1), Now);
        using var theirs = ClusterAuthority.Create("theirs", TimeSpan.FromDays(1), Now);
        var member = Issue(ours, "m");
        var stranger = Issue(theirs, "s");
        using var selfKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var selfMade = new CertificateRequest("CN=m", selfKey, HashAlgorithmName.SHA256).CreateSelfSigned(Now.AddMinutes(-1), Now.AddHours(1));

        Assert.True(member.TryVerifyPeer(member.Certificate, out _));
        Assert.False(member.TryVerifyPeer(stranger.Certificate, out var why));
        Assert.Contains("not issued by this cluster's CA", why, StringComparison.Ordinal);
        Assert.False(member.TryVerifyPeer(selfMade, out _));
        Assert.False(member.TryVerifyPeer(null, out var none));
        Assert.Contains("presented no certificate", none, StringComparison.Ordinal);
    }

    [Fact]
    public void A_persisted_ca_loads_back_and_a_mismatched_key_is_refused()
    {
        using var authority = ClusterAuthority.Create("t", TimeSpan.FromDays(1), Now);
        using var other = ClusterAuthority.Create("u", TimeSpan.FromDays(1), Now);

        using var loaded = ClusterAuthority.Load(authority.CertificatePem, authority.KeyPem);
        Assert.Equal(authority.Certificate.Thumbprint, loaded.Certificate.Thumbprint);
        Assert.Throws<CryptographicException>(() => ClusterAuthority.Load(authority.CertificatePem, other.KeyPem));
    }

    private static ClusterCertificate Issue(ClusterAuthority authority, string node)
    {
        var (key, request) = ClusterAuthority.NewRequest(node);
        using (key)
        {
            using var issued = authority.Issue(request, node, [], TimeSpan.FromHours(1), Now);
            return new ClusterCertificate(ClusterAuthority.WithKey(issued, key), X509CertificateLoader.LoadCertificate(authority.Certificate.RawData));
        }
    }
}
