using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp;

/// <summary>
/// The TCP transport: a multiplexed, flow-controlled request plane over one TCP (or TLS) connection per client and
/// server address. The wire protocol is docs/protocol/tcp.md.
/// </summary>
internal sealed class TcpTransportFactory : ITransportFactory
{
    private readonly TcpTransportOptions _options;
    private readonly IFrameCodecs _codecs;
    private readonly TlsMaterial _tls;
    private readonly ArrayPool<byte> _pool;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Creates the factory from bound options; the host's container uses this constructor.</summary>
    /// <param name="options">The options bound from <c>Plexus:Transports:Tcp</c>.</param>
    /// <param name="codecs">The host's codecs: the configured one is offered, the peer's is looked up by name.</param>
    /// <param name="loggerFactory">Where connection problems are logged.</param>
    /// <param name="clusterIdentity">
    /// The node's certificate in its cluster, for <c>Tls:Mode=cluster</c>; the host registers one when it has a cluster
    /// component, and the container passes null when it has none.
    /// </param>
    public TcpTransportFactory(IOptions<TcpTransportOptions> options, IFrameCodecs codecs, ILoggerFactory loggerFactory, IClusterIdentity? clusterIdentity = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), codecs, loggerFactory, BoundedArrayPool.Instance, clusterIdentity)
    {
    }

    /// <summary>Creates the factory without the host (tests, benchmarks).</summary>
    internal TcpTransportFactory(TcpTransportOptions options, IFrameCodecs codecs, ILoggerFactory? loggerFactory = null, ArrayPool<byte>? pool = null, IClusterIdentity? clusterIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(codecs);

        // The host validates on start; a factory built by hand gets the same checks here.
        options.ThrowIfInvalid();
        _options = options;
        _codecs = codecs;
        _tls = TlsMaterial.Load(options.Tls ?? new TcpTlsOptions(), clusterIdentity);
        _pool = pool ?? BoundedArrayPool.Instance;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc />
    public string Name => TcpEndpoints.Scheme;

    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() =>
        new TcpServer(_options, _codecs, _tls, _pool, _loggerFactory.CreateLogger("Plexus.Transport.Tcp.Server"));

    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() =>
        new TcpClient(_options, _codecs, _tls, _pool, _loggerFactory.CreateLogger("Plexus.Transport.Tcp.Client"));
}
