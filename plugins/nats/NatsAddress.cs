using System.Globalization;

namespace Plexus.Transport.Nats;

/// <summary>
/// A NATS transport address, <c>nats://host:port/&lt;prefix&gt;/&lt;server-id&gt;</c>: the NATS server the instance's
/// node connects through (any server of the same cluster reaches it), the subject prefix, and the 16-hex-digit id of
/// the serving process, whose control subject carries cancellation, credit and keep-alive. Without a server id
/// (<c>nats://host:port/&lt;prefix&gt;</c>) requests go to the endpoint's queue-group subject and any serving instance
/// takes them.
/// </summary>
/// <param name="Authority">The NATS server's host and port, as <c>host:port</c>.</param>
/// <param name="Prefix">The subject prefix.</param>
/// <param name="ServerId">The serving process's id, or <see langword="null"/> for the queue-group form.</param>
internal sealed record NatsAddress(string Authority, string Prefix, string? ServerId)
{
    /// <summary>The token after the prefix in control subjects.</summary>
    public const string ControlToken = "_ctl";

    /// <summary>The serving process's control subject: <c>&lt;prefix&gt;._ctl.&lt;server-id&gt;</c>.</summary>
    public string? ControlSubject => ServerId is null ? null : Control(Prefix, ServerId);

    /// <summary>The control subject of a serving process.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="serverId">The server id.</param>
    /// <returns>The subject.</returns>
    public static string Control(string prefix, string serverId) => $"{prefix}.{ControlToken}.{serverId}";

    /// <summary>The subject an instance serves on: <c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;.&lt;instance-hex&gt;</c>.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="instance">The instance.</param>
    /// <returns>The subject.</returns>
    public static string InstanceSubject(string prefix, EndpointAddress endpoint, InstanceId instance) =>
        $"{QueueSubject(prefix, endpoint)}.{instance}";

    /// <summary>The subject every instance of an endpoint serves in the queue group: <c>&lt;prefix&gt;.&lt;namespace&gt;.&lt;component&gt;.&lt;endpoint&gt;</c>.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The subject.</returns>
    public static string QueueSubject(string prefix, EndpointAddress endpoint) =>
        $"{prefix}.{Token(endpoint.Namespace)}.{Token(endpoint.Component)}.{Token(endpoint.Endpoint)}";

    /// <summary>An endpoint segment as one subject token: '.' is a token separator in NATS, so it becomes '~'.</summary>
    /// <param name="segment">The segment.</param>
    /// <returns>The token.</returns>
    public static string Token(string segment) => segment.Replace('.', '~');

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
        if (path.Length == 0 || parts.Length > 2 || parts[0].Length == 0)
        {
            throw new ArgumentException($"'{address}' is not a NATS transport address: its path must be /<prefix>/<server-id> or /<prefix>.", nameof(address));
        }

        string? serverId = null;
        if (parts.Length == 2)
        {
            if (!ulong.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _) || parts[1].Length != 16)
            {
                throw new ArgumentException($"'{address}' is not a NATS transport address: '{parts[1]}' is not a 16-digit hexadecimal server id.", nameof(address));
            }

            serverId = parts[1].ToLowerInvariant();
        }

        return new NatsAddress(address.Authority, parts[0], serverId);
    }
}
