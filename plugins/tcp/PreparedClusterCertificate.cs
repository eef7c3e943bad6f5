using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Plexus.Transport.Tcp;

/// <summary>
/// A cluster certificate made ready for <see cref="System.Net.Security.SslStream"/> once, rather than per handshake:
/// its key re-imported through PKCS#12 and, for the server, its certificate context.
/// </summary>
internal sealed class PreparedClusterCertificate
{
    public PreparedClusterCertificate(ClusterCertificate source)
    {
        Source = source;

        // The identity may hold its key as an ephemeral one (CopyWithPrivateKey, CreateFromPem). SslStream on Linux
        // uses such a key as it is (the tests serve one); Windows' SChannel needs a key it can look up, which a PKCS#12
        // round trip gives on every platform, as TlsMaterial does for PEM files. Once per certificate, so it is cheap.
        Certificate = X509CertificateLoader.LoadPkcs12(source.Certificate.Export(X509ContentType.Pkcs12), password: null);

        // Offline: the chain is the node certificate and the cluster CA every peer already holds; nothing to fetch.
        Context = SslStreamCertificateContext.Create(Certificate, additionalCertificates: null, offline: true);
    }

    /// <summary>The identity's certificate this was made from.</summary>
    public ClusterCertificate Source { get; }

    /// <summary>The node's certificate with a key SslStream can use.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>What the server presents.</summary>
    public SslStreamCertificateContext Context { get; }
}
