using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>
/// The QUIC transport: one bidirectional QUIC stream per request over one QUIC connection per client and server
/// address, with TLS 1.3 always on. The wire protocol is docs/protocol/quic.md.
/// </summary>
internal sealed class QuicTransportFactory : ITransportFactory
{
    private readonly QuicTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly QuicTlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates the factory from bound options; the host's container uses this constructor.</summary>
    /// <param name="options">The options bound from <c>Plexus:Transports:Quic</c>.</param>
    /// <param name="codecs">The host's codecs: the configured one is offered, the peer's is looked up by name.</param>
    /// <param name="loggerFactory">Where connection problems are logged.</param>
    /// <param name="clusterIdentity">
    /// The node's certificate in its cluster, for <c>Tls:Mode=cluster</c>; the host registers one when it has a cluster
    /// component, and the container passes null when it has none.
    /// </param>
    public QuicTransportFactory(IOptions<QuicTransportOptions> options, IFrameCodecs codecs, ILoggerFactory loggerFactory, IClusterIdentity? clusterIdentity = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), codecs, loggerFactory, BoundedArrayPool.Instance, clusterIdentity)
    {
    }

    /// <summary>Creates the factory without the host (tests, benchmarks).</summary>
    internal QuicTransportFactory(QuicTransportOptions options, IFrameCodecs codecs, ILoggerFactory? loggerFactory = null, ArrayPool<byte>? pool = null, IClusterIdentity? clusterIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(codecs);

        // The host validates on start; a factory built by hand gets the same checks here. The native libraries are
        // not touched until a server starts or a client connects: every factory is built, only one serves.
        options.ThrowIfInvalid();
        _options = options;
        _codecs = codecs;
        _tls = QuicTlsMaterial.Load(options.Tls ?? new QuicTlsOptions(), clusterIdentity);
        _pool = pool ?? BoundedArrayPool.Instance;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc />
    public string Name => QuicEndpoints.Scheme;

    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() =>
        new QuicServer(_options, _codecs, _tls, _pool, _loggerFactory.CreateLogger("Plexus.Transport.Quic.Server"), _loggerFactory.CreateLogger("Plexus.Transport.Quic.Connections"));

    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() =>
        new QuicClient(_options, _codecs, _tls, _pool, _loggerFactory.CreateLogger("Plexus.Transport.Quic.Client"), _loggerFactory.CreateLogger("Plexus.Transport.Quic.Connections"));
}
