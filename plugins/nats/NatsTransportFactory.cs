using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Nats;

/// <summary>
/// The NATS transport: requests travel through a nats-server to subjects that name the serving process, responses
/// stream back to the requester's inbox under credit-based flow control. Each server and each client has its own NATS
/// connection.
/// </summary>
internal sealed class NatsTransportFactory : ITransportFactory
{
    /// <summary>The transport name and the scheme of its addresses.</summary>
    public const string Scheme = "nats";

    private readonly NatsTransportOptions _options;
    private readonly ArrayPool<byte> _pool;
    private readonly ILoggerFactory _loggers;

    /// <summary>Creates the factory from bound options; the host's container uses this constructor.</summary>
    /// <param name="options">The options bound from <c>Plexus:Transports:Nats</c>.</param>
    /// <param name="loggers">Where connection events are logged.</param>
    public NatsTransportFactory(IOptions<NatsTransportOptions> options, ILoggerFactory? loggers = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), BoundedArrayPool.Instance, loggers)
    {
    }

    /// <summary>Creates the factory directly, as tests and benchmarks do.</summary>
    /// <param name="options">The options.</param>
    /// <param name="pool">Where payload and message buffers come from.</param>
    /// <param name="loggers">Where connection events are logged.</param>
    internal NatsTransportFactory(NatsTransportOptions options, ArrayPool<byte> pool, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);

        // The host validates on start; a factory built by hand gets the same checks here.
        options.ThrowIfInvalid();
        _options = options;
        _pool = pool;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc />
    public string Name => Scheme;

    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() => new NatsServer(_options, _pool, _loggers);

    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() => new NatsClient(_options, _loggers);
}
