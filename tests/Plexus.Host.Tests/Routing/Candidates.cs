using System.Globalization;

namespace Plexus.Host.Tests.Routing;

/// <summary>Builds route candidates and contexts for the router tests.</summary>
internal static class Candidates
{
    private static readonly EndpointAddress Endpoint = new("ns", "component", "generate");

    public static RouteCandidate Make(ulong id, double load = 0, int inFlight = 0)
    {
        var metadata = new Dictionary<string, string>
        {
            [InstanceMetadataKeys.Load] = load.ToString(CultureInfo.InvariantCulture),
        };
        var instance = new Instance(Endpoint, new InstanceId(id), "tcp", new Uri($"tcp://10.0.0.{id % 250}:7400"), metadata);
        return new RouteCandidate(instance, inFlight);
    }

    public static RouteCandidate[] Equal(int count)
    {
        var candidates = new RouteCandidate[count];
        for (var i = 0; i < count; i++)
        {
            candidates[i] = Make((ulong)i + 1);
        }

        return candidates;
    }

    public static RouteContext Context(int seed = 1, InstanceId? target = null) =>
        new(Endpoint, "request-1", target, new Random(seed));

    public static RouteContext Context(Random random) => new(Endpoint, "request-1", null, random);
}
