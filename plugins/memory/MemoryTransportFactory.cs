using System.Buffers;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Memory;

/// <summary>
/// The memory transport: servers and clients in one process that hand requests and responses to each other through
/// <see cref="MemoryHub"/>, with no serialization. Its value is as a reference: it honours every request-plane
/// semantic (back-pressure, cancellation both ways, deadlines, drain, abrupt stop, limits) with nothing else in the way.
/// </summary>
internal sealed class MemoryTransportFactory : ITransportFactory
{
    private readonly MemoryTransportOptions _options;
    private readonly ArrayPool<byte> _pool;

    /// <summary>Creates the factory from bound options; the host's container uses this constructor.</summary>
    /// <param name="options">The options bound from <c>Plexus:Transports:Memory</c>.</param>
    public MemoryTransportFactory(IOptions<MemoryTransportOptions> options)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), BoundedArrayPool.Instance)
    {
    }

    /// <summary>Creates the factory with a chosen buffer pool, so that tests can count rentals.</summary>
    /// <param name="options">The options.</param>
    /// <param name="pool">Where request copies and response messages are rented from.</param>
    internal MemoryTransportFactory(MemoryTransportOptions options, ArrayPool<byte> pool)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);

        // The host validates on start; a factory built by hand (a test, a sample) gets the same checks here.
        options.ThrowIfInvalid();
        _options = options;
        _pool = pool;
    }

    /// <summary>The transport name and the scheme of its addresses.</summary>
    public const string Scheme = "memory";

    /// <inheritdoc />
    public string Name => Scheme;

    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() => new MemoryServer(_options, _pool);

    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() => new MemoryClient(_options);
}
