using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Telemetry;

namespace Plexus.Hosting.Bulk;

/// <summary>
/// The bulk path, the same over every stream transport: a payload or response message over <c>Plexus:Bulk:Threshold</c>
/// is copied into a registered buffer and sent as a descriptor when both ends share the bulk transport; the receiver
/// pulls it into a registered buffer of its own and hands on the usual <see cref="ReadOnlySequence{T}"/>. When the
/// transport is missing here or at the peer, or a transfer fails, the bytes go inline, logged once per peer and counted.
/// </summary>
internal sealed partial class BulkPath : IDisposable
{
    private static readonly Dictionary<string, string> NoHeaders = [];

    private readonly PlexusComposition _composition;
    private readonly BulkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lazy<IBulkTransport?> _transport;
    private readonly Lazy<BulkBufferPool?> _pool;
    private readonly Lazy<BulkHolds> _holds;
    private readonly ConcurrentDictionary<string, long> _inlineUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _toldAboutPeer = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, string>? _acceptOnly;

    public BulkPath(PlexusComposition composition, IOptions<PlexusOptions> options, BulkMetrics metrics, TimeProvider time, ILogger<BulkPath> logger)
    {
        _composition = composition;
        _options = options.Value.Bulk;
        Metrics = metrics;
        _time = time;
        _logger = logger;
        _transport = new Lazy<IBulkTransport?>(Resolve);
        _pool = new Lazy<BulkBufferPool?>(() => _transport.Value is { } transport ? new BulkBufferPool(transport, _options.PoolBytes, _time, _options.HoldTimeout) : null);
        _holds = new Lazy<BulkHolds>(() => new BulkHolds(_time, _options.HoldTimeout, () => metrics.Offer("expired")));
    }

    public BulkOptions Options => _options;

    public BulkMetrics Metrics { get; }

    /// <summary>Whether <c>Plexus:Bulk:Transport</c> names a bulk transport.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(_options.Transport);

    /// <summary>The bulk transport in use, or null when none is configured or it is not available here.</summary>
    public IBulkTransport? Transport => _transport.Value;

    /// <summary>The buffers this node registers; null without a transport.</summary>
    public BulkBufferPool? Pool => _pool.Value;

    public BulkHolds Holds => _holds.Value;

    /// <summary>Adds the bulk transport and what it runs on to an instance's metadata.</summary>
    public void Advertise(Dictionary<string, string> metadata)
    {
        if (Transport is { } transport)
        {
            metadata[InstanceMetadataKeys.Bulk] = transport.Name;
            if (transport.Details is { Length: > 0 } details)
            {
                metadata[InstanceMetadataKeys.BulkDetails] = details;
            }
        }
    }

    /// <summary>Whether responses from <paramref name="target"/> may come by bulk transfer: it advertises this node's bulk transport.</summary>
    public bool SharesTransportWith(Instance target) =>
        Transport is { } transport
        && target.Metadata.TryGetValue(InstanceMetadataKeys.Bulk, out var name)
        && string.Equals(name, transport.Name, StringComparison.Ordinal);

    /// <summary>
    /// Whether a request payload of <paramref name="length"/> bytes to <paramref name="target"/> goes by bulk transfer;
    /// a payload over the threshold that cannot is counted as inline with the reason.
    /// </summary>
    public bool ShouldOffer(long length, Instance target)
    {
        if (!IsConfigured || length <= _options.Threshold)
        {
            return false;
        }

        var reason = Transport is null ? "unavailable"
            : length > _options.MaxBytes || !SharesTransportWith(target) ? "peer"
            : InlineFor(target) ? "failed"
            : null;
        if (reason is null)
        {
            return true;
        }

        Metrics.Inline(length, reason);
        return false;
    }

    /// <summary>Copies a payload into a registered buffer and returns it with the descriptor record to send instead.</summary>
    public async ValueTask<(IBulkBuffer Buffer, ReadOnlySequence<byte> Record)> OfferAsync(ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var buffer = await Pool!.RentAsync((int)payload.Length, cancellationToken).ConfigureAwait(false);
        payload.CopyTo(buffer.Memory.Span);
        return (buffer, new ReadOnlySequence<byte>(BulkWire.Record(buffer.Descriptor, payload.Length)));
    }

    /// <summary>The request's headers with the bulk markers this call needs.</summary>
    public IReadOnlyDictionary<string, string> Headers(IReadOnlyDictionary<string, string> headers, bool accept, bool offer)
    {
        if (!accept && !offer)
        {
            return headers;
        }

        var name = Transport!.Name;
        if (accept && !offer && headers.Count == 0)
        {
            // The common case of every call with bulk on: one shared dictionary instead of one per request.
            return _acceptOnly ??= new Dictionary<string, string>(1) { [PlexusHeaders.BulkAccept] = name };
        }

        var with = new Dictionary<string, string>(headers.Count + 2);
        foreach (var (key, value) in headers)
        {
            with[key] = value;
        }

        if (accept)
        {
            with[PlexusHeaders.BulkAccept] = name;
        }

        if (offer)
        {
            with[PlexusHeaders.Bulk] = name;
        }

        return with;
    }

    /// <summary>The headers without the bulk offer, for sending the payload again inline.</summary>
    public static IReadOnlyDictionary<string, string> WithoutOffer(IReadOnlyDictionary<string, string> headers)
    {
        var without = new Dictionary<string, string>(headers.Count);
        foreach (var (key, value) in headers)
        {
            if (!string.Equals(key, PlexusHeaders.Bulk, StringComparison.Ordinal))
            {
                without[key] = value;
            }
        }

        return without.Count == 0 ? NoHeaders : without;
    }

    /// <summary>Counts a request payload over the threshold that arrived inline although this node has the bulk path on.</summary>
    public void ArrivedInline(long length)
    {
        if (length > _options.Threshold)
        {
            Metrics.Inline(length, Transport is null ? "unavailable" : "peer");
        }
    }

    /// <summary>Whether a request's client pulls its response messages by this node's bulk transport.</summary>
    public bool ClientAccepts(IReadOnlyDictionary<string, string> headers) =>
        Transport is { } transport
        && headers.TryGetValue(PlexusHeaders.BulkAccept, out var name)
        && string.Equals(name, transport.Name, StringComparison.Ordinal);

    /// <summary>
    /// Pulls a payload offered by descriptor into a registered buffer of this node; the caller returns the buffer to
    /// <see cref="Pool"/> when done with the bytes.
    /// </summary>
    /// <exception cref="PlexusException"><see cref="PlexusErrorCode.BulkUnavailable"/> when the pull failed,
    /// <see cref="PlexusErrorCode.PayloadTooLarge"/> over <c>Plexus:Bulk:MaxBytes</c>.</exception>
    public async ValueTask<IBulkBuffer> PullAsync(BulkDescriptor remote, string direction, int offset, CancellationToken cancellationToken)
    {
        var transport = Transport ?? throw new PlexusException(
            PlexusErrorCode.BulkUnavailable,
            IsConfigured ? $"The bulk transport '{_options.Transport}' is not available on this node." : "This node has no bulk transport (Plexus:Bulk:Transport is empty).")
        { BeforeFirstByte = true };
        if (!string.Equals(remote.Transport, transport.Name, StringComparison.Ordinal))
        {
            throw new PlexusException(PlexusErrorCode.BulkUnavailable, $"The payload was offered over bulk transport '{remote.Transport}', but this node uses '{transport.Name}'.") { BeforeFirstByte = true };
        }

        if (remote.Length + offset > _options.MaxBytes)
        {
            throw new PlexusException(PlexusErrorCode.PayloadTooLarge, $"A bulk payload of {remote.Length + offset} bytes exceeds this node's Plexus:Bulk:MaxBytes of {_options.MaxBytes}; raise it on the receiving node or send less.") { BeforeFirstByte = true };
        }

        var length = (int)remote.Length;
        var buffer = await Pool!.RentAsync(offset + length, cancellationToken).ConfigureAwait(false);
        try
        {
            await transport.ReadAsync(remote, buffer.Memory.Slice(offset, length), cancellationToken).ConfigureAwait(false);
            Metrics.Pulled(direction, length);
            return buffer;
        }
        catch (Exception ex)
        {
            // UCX may still be writing into it if the read was abandoned mid-way: never reused, released after the grace.
            Pool.Retire(buffer);
            Metrics.PullFailed(direction);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new PlexusException(PlexusErrorCode.BulkUnavailable, $"Pulling {length} bytes over bulk transport '{transport.Name}' failed: {ex.Message}", ex) { BeforeFirstByte = true };
        }
    }

    /// <summary>Notes that a bulk transfer with a peer failed: payloads to it go inline for a while; logged once per peer.</summary>
    public void Failed(Instance peer, long bytes, Exception error)
    {
        var key = peer.Address.ToString();
        _inlineUntil[key] = _time.GetTimestamp() + (long)(_options.InlineAfterFailure.TotalSeconds * _time.TimestampFrequency);
        Metrics.Inline(bytes, "failed");
        if (_toldAboutPeer.TryAdd(key, 0))
        {
            LogPeerFailed(error, Transport?.Name ?? _options.Transport, peer.Address, _options.InlineAfterFailure);
        }
    }

    public void Dispose()
    {
        if (_holds.IsValueCreated)
        {
            _holds.Value.Dispose();
        }

        if (_pool.IsValueCreated)
        {
            _pool.Value?.Dispose();
        }
    }

    private bool InlineFor(Instance target)
    {
        var key = target.Address.ToString();
        if (!_inlineUntil.TryGetValue(key, out var until))
        {
            return false;
        }

        if (_time.GetTimestamp() < until)
        {
            return true;
        }

        _inlineUntil.TryRemove(key, out _);
        return false;
    }

    private IBulkTransport? Resolve()
    {
        var transport = _composition.Bulk;
        if (transport is null)
        {
            return null;
        }

        if (!transport.IsAvailable)
        {
            LogUnavailable(transport.Name, _options.Threshold);
            return null;
        }

        LogOn(transport.Name, transport.Details, _options.Threshold);
        return transport;
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Bulk path on: payloads over {Threshold} bytes move by bulk transport '{Transport}' ({Details}) with peers that have it.")]
    private partial void LogOn(string transport, string details, int threshold);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Bulk transport '{Transport}' is not available on this machine (its own log line says why); payloads over {Threshold} bytes go inline. Fix what that line names, or empty Plexus:Bulk:Transport to silence this.")]
    private partial void LogUnavailable(string transport, int threshold);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "A bulk transfer over '{Transport}' with the node at {Peer} failed; its payloads go inline for {For} (Plexus:Bulk:InlineAfterFailure), then bulk is tried again. Logged once per peer; plexus_bulk_fallbacks_total counts every time.")]
    private partial void LogPeerFailed(Exception error, string transport, Uri peer, TimeSpan @for);
}
