using System.Buffers.Text;
using System.Globalization;

namespace Plexus.Transport.Nats;

/// <summary>
/// A NATS transport address, <c>nats://host:port/&lt;prefix&gt;/&lt;server-id&gt;</c>: the NATS server the serving
/// node connects through (any server of the same cluster reaches it), the subject prefix, and the 16-hex-digit id of
/// the serving process. The server id is in every subject a request uses, so requests reach that process and no other.
/// </summary>
/// <param name="Authority">The NATS server's host and port, as <c>host:port</c>.</param>
/// <param name="Prefix">The subject prefix.</param>
/// <param name="ServerId">The serving process's id.</param>
internal sealed record NatsAddress(string Authority, string Prefix, string ServerId)
{
    /// <summary>The token after the prefix in control subjects.</summary>
    public const string ControlToken = "_ctl";

    /// <summary>The length of a server id, and of an instance id, in hexadecimal digits.</summary>
    public const int IdLength = 16;

    private volatile bool _readsBatchedHeads;

    /// <summary>The serving process's control subject: <c>&lt;prefix&gt;._ctl.&lt;server-id&gt;</c>.</summary>
    public string ControlSubject { get; } = Control(Prefix, ServerId);

    /// <summary>Whether the serving process said (<c>Plexus-Batch: 1</c> on an answer) that it reads <c>heads</c> frames.</summary>
    public bool ReadsBatchedHeads
    {
        get => _readsBatchedHeads;
        set => _readsBatchedHeads = value;
    }

    /// <summary>The control subject of a serving process.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="serverId">The server id.</param>
    /// <returns>The subject.</returns>
    public static string Control(string prefix, string serverId) => $"{prefix}.{ControlToken}.{serverId}";

    /// <summary>
    /// The subject a request head is published to:
    /// <c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;.&lt;instance-hex&gt;.&lt;server-id&gt;</c>.
    /// </summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance.</param>
    /// <param name="serverId">The serving process's id.</param>
    /// <returns>The subject.</returns>
    public static string RequestSubject(string prefix, EndpointAddress endpoint, InstanceId instance, string serverId) =>
        $"{prefix}.{Token(endpoint.Namespace)}.{Token(endpoint.Component)}.{Token(endpoint.Endpoint)}.{instance}.{serverId}";

    /// <summary>
    /// What a server subscribes to take every request sent to it, whatever its endpoint:
    /// <c>&lt;prefix&gt;.*.*.*.*.&lt;server-id&gt;</c>. Which endpoints it serves is the dispatcher's business.
    /// </summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="serverId">The server id.</param>
    /// <returns>The subject, with wildcards.</returns>
    public static string RequestSubscription(string prefix, string serverId) => $"{prefix}.*.*.*.*.{serverId}";

    /// <summary>
    /// The endpoint's queue subject (<c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c>), on which
    /// plain NATS callers reach one of the processes serving it.
    /// </summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The subject.</returns>
    public static string EndpointSubject(string prefix, EndpointAddress endpoint) =>
        $"{prefix}.{Token(endpoint.Namespace)}.{Token(endpoint.Component)}.{Token(endpoint.Endpoint)}";

    /// <summary>An endpoint segment as one subject token: '.' is a token separator in NATS, so it becomes '~'.</summary>
    /// <param name="segment">The segment.</param>
    /// <returns>The token.</returns>
    public static string Token(string segment) => segment.Replace('.', '~');

    /// <summary>
    /// Splits a request subject received on <see cref="RequestSubscription"/> into the endpoint's three tokens and the
    /// instance id, without allocating.
    /// </summary>
    /// <param name="subject">The subject as received.</param>
    /// <param name="prefixLength">The length of the prefix in bytes.</param>
    /// <param name="endpoint">The bytes <c>&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c>, still with '~' for '.'.</param>
    /// <param name="instance">The instance id.</param>
    /// <returns><see langword="true"/> when the subject has that shape.</returns>
    public static bool TrySplitRequestSubject(ReadOnlySpan<byte> subject, int prefixLength, out ReadOnlySpan<byte> endpoint, out InstanceId instance)
    {
        endpoint = default;
        instance = default;

        // <prefix>.<ns>.<component>.<endpoint>.<instance>.<server-id>: the subscription fixed the token count.
        var tail = IdLength + 1 + IdLength + 1;
        if (subject.Length <= prefixLength + 1 + tail
            || subject[prefixLength] != (byte)'.'
            || subject[^tail] != (byte)'.'
            || subject[^(IdLength + 1)] != (byte)'.')
        {
            return false;
        }

        var hex = subject.Slice(subject.Length - tail + 1, IdLength);
        if (!Utf8Parser.TryParse(hex, out ulong value, out var consumed, 'x') || consumed != IdLength)
        {
            return false;
        }

        endpoint = subject[(prefixLength + 1)..(subject.Length - tail)];
        instance = new InstanceId(value);
        return true;
    }

    /// <summary>Formats a server's address.</summary>
    /// <param name="authority">The advertised <c>host:port</c>.</param>
    /// <param name="prefix">The prefix.</param>
    /// <param name="serverId">The server id.</param>
    /// <returns>The address.</returns>
    public static Uri Format(string authority, string prefix, string serverId) => new($"{NatsTransportFactory.Scheme}://{authority}/{prefix}/{serverId}");

    /// <summary>Parses an address.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The parts.</returns>
    /// <exception cref="ArgumentException">The address is not a NATS transport address.</exception>
    public static NatsAddress Parse(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || !string.Equals(address.Scheme, NatsTransportFactory.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{address}' is not a NATS transport address; write it as nats://host:port/<prefix>/<server-id>.", nameof(address));
        }

        var path = address.AbsolutePath.Trim('/');
        var parts = path.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0)
        {
            // A prefix alone names no process: every request goes to the one server that advertised the address.
            throw new ArgumentException($"'{address}' is not a NATS transport address: its path must be /<prefix>/<server-id>, as a server advertises it.", nameof(address));
        }

        if (parts[1].Length != IdLength || !ulong.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
        {
            throw new ArgumentException($"'{address}' is not a NATS transport address: '{parts[1]}' is not a 16-digit hexadecimal server id.", nameof(address));
        }

        return new NatsAddress(address.Authority, parts[0], parts[1].ToLowerInvariant());
    }
}
