using System.Text;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// Where instances live in etcd's key space:
/// <c>&lt;prefix&gt;/&lt;namespace&gt;/&lt;component&gt;/&lt;endpoint&gt;/&lt;instance-id&gt;</c>, the id as 16 lowercase
/// hexadecimal digits. Endpoint segments never hold <c>/</c> (<see cref="EndpointAddress"/> allows letters, digits,
/// <c>-</c>, <c>_</c> and <c>.</c>), so every key splits back into its endpoint and id unambiguously, and one
/// endpoint's instances are exactly the keys under <c>&lt;prefix&gt;/ns/component/endpoint/</c>.
/// </summary>
internal sealed class EtcdKeyLayout
{
    public EtcdKeyLayout(string prefix)
    {
        Prefix = prefix.TrimEnd('/');
    }

    /// <summary>The prefix without its trailing <c>/</c>.</summary>
    public string Prefix { get; }

    /// <summary>The prefix that holds every instance: <c>&lt;prefix&gt;/</c>.</summary>
    public string AllPrefix => Prefix + "/";

    /// <summary>The prefix of one endpoint's instances, ending in <c>/</c>.</summary>
    public string EndpointPrefix(EndpointAddress endpoint) =>
        $"{Prefix}/{endpoint.Namespace}/{endpoint.Component}/{endpoint.Endpoint}/";

    /// <summary>The key of one instance.</summary>
    public string InstanceKey(EndpointAddress endpoint, InstanceId id) => EndpointPrefix(endpoint) + id.ToString();

    /// <summary>Splits a key under <see cref="AllPrefix"/> into its endpoint and id.</summary>
    /// <param name="key">The key.</param>
    /// <param name="endpoint">The endpoint the key names.</param>
    /// <param name="id">The instance id the key names.</param>
    /// <returns>Whether the key has the layout's shape.</returns>
    public bool TryParse(string key, out EndpointAddress endpoint, out InstanceId id)
    {
        endpoint = default;
        id = default;
        if (!key.StartsWith(AllPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key[AllPrefix.Length..].Split('/');
        return parts.Length == 4
            && EndpointAddress.TryParse($"{parts[0]}/{parts[1]}/{parts[2]}", out endpoint)
            && parts[3].Length == 16
            && InstanceId.TryParse(parts[3], out id);
    }

    /// <summary>
    /// The end of the range of keys starting with <paramref name="prefix"/>, as etcd wants it: the prefix with its last
    /// byte incremented (bytes of 0xff dropped first).
    /// </summary>
    public static byte[] RangeEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return bytes[..(i + 1)];
            }
        }

        // Every byte is 0xff: the range runs to the end of the key space.
        return [0];
    }
}
