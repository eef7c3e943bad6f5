namespace Plexus;

/// <summary>One process serving one endpoint, as discovery knows it.</summary>
/// <param name="Endpoint">The endpoint it serves.</param>
/// <param name="Id">Its instance id, unique per endpoint.</param>
/// <param name="Transport">The name of the transport that reaches it, such as <c>tcp</c>.</param>
/// <param name="Address">The transport address a client sends requests to, such as <c>tcp://10.0.0.5:7400</c>.</param>
/// <param name="Metadata">Free-form facts about the instance, such as its load (<see cref="InstanceMetadataKeys"/>).</param>
public sealed record Instance(
    EndpointAddress Endpoint,
    InstanceId Id,
    string Transport,
    Uri Address,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Creates an instance without metadata.</summary>
    /// <param name="endpoint">The endpoint it serves.</param>
    /// <param name="id">Its instance id.</param>
    /// <param name="transport">The name of the transport.</param>
    /// <param name="address">The transport address.</param>
    public Instance(EndpointAddress endpoint, InstanceId id, string transport, Uri address)
        : this(endpoint, id, transport, address, EmptyMetadata)
    {
    }

    /// <summary>An empty metadata map.</summary>
    public static IReadOnlyDictionary<string, string> EmptyMetadata { get; } = new Dictionary<string, string>();

    // Parsed once per metadata map, not on every routing decision; keyed by the map so that `with` copies re-parse.
    private MetadataFacts? _facts;

    /// <summary>The load the instance last reported in <see cref="InstanceMetadataKeys.Load"/>, or 0.</summary>
    public double Load => Facts.Load;

    /// <summary>Whether the instance last reported itself busy in <see cref="InstanceMetadataKeys.Busy"/>.</summary>
    public bool IsBusy => Facts.Busy;

    private MetadataFacts Facts
    {
        get
        {
            var facts = Volatile.Read(ref _facts);
            if (facts is null || !ReferenceEquals(facts.Source, Metadata))
            {
                facts = new MetadataFacts(Metadata);
                Volatile.Write(ref _facts, facts);
            }

            return facts;
        }
    }

    /// <inheritdoc />
    public bool Equals(Instance? other) =>
        other is not null
        && Endpoint == other.Endpoint
        && Id == other.Id
        && Transport == other.Transport
        && Address == other.Address
        && MetadataEquals(Metadata, other.Metadata);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Endpoint, Id, Transport, Address);

    private static bool MetadataEquals(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || other != value)
            {
                return false;
            }
        }

        return true;
    }

    private sealed class MetadataFacts
    {
        public MetadataFacts(IReadOnlyDictionary<string, string> source)
        {
            Source = source;
            Load = source.TryGetValue(InstanceMetadataKeys.Load, out var load)
                && double.TryParse(load, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
                    ? value
                    : 0;
            Busy = source.TryGetValue(InstanceMetadataKeys.Busy, out var busy) && string.Equals(busy, "true", StringComparison.OrdinalIgnoreCase);
        }

        public IReadOnlyDictionary<string, string> Source { get; }

        public double Load { get; }

        public bool Busy { get; }
    }
}
