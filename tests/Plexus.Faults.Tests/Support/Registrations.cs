using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// What discovery holds, read straight from etcd with a plain client (not through a node or the client under test):
/// the instances under the lab's prefix, in the JSON the providers write.
/// </summary>
internal static class Registrations
{
    /// <summary>The instances registered under <paramref name="prefix"/>, read through any of <paramref name="endpoints"/>.</summary>
    public static async Task<IReadOnlyList<Instance>> ListAsync(string endpoints, string prefix)
    {
        using var client = new EtcdClient(endpoints);
        var start = prefix.TrimEnd('/') + "/";

        // Everything from "<prefix>/" up to "<prefix>0" ('0' follows '/'): exactly the keys under the prefix.
        var request = new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(start),
            RangeEnd = ByteString.CopyFromUtf8(start[..^1] + "0"),
        };
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = await client.GetAsync(request, cancellationToken: giveUp.Token);
        var instances = new List<Instance>();
        foreach (var kv in response.Kvs)
        {
            using var json = JsonDocument.Parse(kv.Value.Memory);
            if (!InstanceJson.TryReadFields(json.RootElement, out var instance, out var problem))
            {
                throw new InvalidOperationException($"etcd key {kv.Key.ToStringUtf8()} holds no instance: {problem}");
            }

            instances.Add(instance);
        }

        return instances;
    }

    /// <summary>The instances <paramref name="nodeId"/> registered.</summary>
    public static IReadOnlyList<Instance> Of(this IEnumerable<Instance> instances, string nodeId) =>
        [.. instances.Where(i => i.Metadata.TryGetValue(InstanceMetadataKeys.Node, out var node) && node == nodeId)];

    /// <summary>One line per instance, for failure messages.</summary>
    public static string Describe(this IEnumerable<Instance> instances) =>
        string.Join("; ", instances.Select(i => $"{i.Endpoint} {i.Id} on {i.Metadata.GetValueOrDefault(InstanceMetadataKeys.Node)}"));
}
