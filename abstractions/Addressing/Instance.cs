namespace Plexus;

/// <summary>
/// One process serving one endpoint, as discovery knows it. A node that serves on several transports at once registers
/// one instance with every address in <see cref="Addresses"/>; <see cref="Transport"/> and <see cref="Address"/> are
/// the first of them, so that code reading one address keeps working.
/// </summary>
/// <param name="Endpoint">The endpoint it serves.</param>
/// <param name="Id">Its instance id, unique per endpoint.</param>
/// <param name="Transport">The name of the (first) transport that reaches it, such as <c>tcp</c>.</param>
/// <param name="Address">The (first) transport address a client sends requests to, such as <c>tcp://10.0.0.5:7400</c>.</param>
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

    private IReadOnlyList<InstanceAddress>? _addresses;

    /// <summary>The name of the (first) transport that reaches it. Setting it replaces <see cref="Addresses"/> by one address.</summary>
    public string Transport
    {
        get;
        init
        {
            field = value;
            _addresses = null;
        }
    } = Transport;

    /// <summary>The (first) address a client sends requests to. Setting it replaces <see cref="Addresses"/> by one address.</summary>
    public Uri Address
    {
        get;
        init
        {
            field = value;
            _addresses = null;
        }
    } = Address;

    /// <summary>
    /// Every transport that reaches the instance with its address, in the order the instance prefers them; the first is
    /// <see cref="Transport"/> and <see cref="Address"/>. Setting it sets those two to its first entry. Since abstractions 2.5.
    /// </summary>
    /// <exception cref="ArgumentException">Set to an empty list, or to one that names a transport twice.</exception>
    public IReadOnlyList<InstanceAddress> Addresses
    {
        get => _addresses ??= [new InstanceAddress(Transport, Address)];
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0)
            {
                throw new ArgumentException("An instance needs at least one address.", nameof(Addresses));
            }

            var copy = new InstanceAddress[value.Count];
            for (var i = 0; i < copy.Length; i++)
            {
                var entry = value[i] ?? throw new ArgumentException($"Address {i} is null.", nameof(Addresses));
                if (string.IsNullOrWhiteSpace(entry.Transport))
                {
                    throw new ArgumentException($"Address {i} ({entry.Address}) names no transport.", nameof(Addresses));
                }

                for (var j = 0; j < i; j++)
                {
                    if (string.Equals(copy[j].Transport, entry.Transport, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new ArgumentException($"Transport '{entry.Transport}' is named twice; an instance has one address per transport.", nameof(Addresses));
                    }
                }

                copy[i] = entry;
            }

            Transport = copy[0].Transport;
            Address = copy[0].Address;
            _addresses = copy;
        }
    }

    /// <summary>Finds the instance's address on <paramref name="transport"/> (names compare ignoring case).</summary>
    /// <param name="transport">A transport's name.</param>
    /// <param name="address">The address, when the instance offers that transport.</param>
    /// <returns>Whether it does. Since abstractions 2.5.</returns>
    public bool TryGetAddress(string transport, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? address)
    {
        foreach (var entry in Addresses)
        {
            if (string.Equals(entry.Transport, transport, StringComparison.OrdinalIgnoreCase))
            {
                address = entry.Address;
                return true;
            }
        }

        address = null;
        return false;
    }

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
        && AddressesEqual(Addresses, other.Addresses)
        && MetadataEquals(Metadata, other.Metadata);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Endpoint, Id, Transport, Address);

    private static bool AddressesEqual(IReadOnlyList<InstanceAddress> a, IReadOnlyList<InstanceAddress> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }

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
