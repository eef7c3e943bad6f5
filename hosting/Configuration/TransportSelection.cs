using Microsoft.Extensions.Configuration;

namespace Plexus.Hosting.Configuration;

/// <summary>
/// Which transports a node serves on: <c>Plexus:RequestPlane:Transports</c> (a list) or the older single
/// <c>Plexus:RequestPlane:Transport</c>. The two are one setting, so, as for any setting, the configuration source read
/// last that sets either decides (a command-line <c>--Plexus:RequestPlane:Transport=quic</c> overrides a list in
/// appsettings.json, and a list on the command line overrides the single name there). Setting both differently in one
/// source is refused: nothing would say which was meant. The list is read from that one source only, so that lists of
/// two sources are never merged entry by entry.
/// </summary>
internal sealed class TransportSelection
{
    public const string SingleKey = "Plexus:RequestPlane:Transport";
    public const string ListKey = "Plexus:RequestPlane:Transports";

    private TransportSelection(IReadOnlyList<string> names, string key, string? conflict)
    {
        Names = names;
        Key = key;
        Conflict = conflict;
    }

    /// <summary>The transports' names, in the node's order of preference.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The key they were read from, for messages.</summary>
    public string Key { get; }

    /// <summary>Why the setting cannot be used (both keys set differently in one source), or null.</summary>
    public string? Conflict { get; }

    /// <summary>Reads the selection from the configuration's sources; null when it has none (the bound defaults apply).</summary>
    public static TransportSelection? Read(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return FromValues(configuration[SingleKey], ReadList(configuration), "the configuration");
        }

        for (var i = root.Providers.Count() - 1; i >= 0; i--)
        {
            var provider = root.Providers.ElementAt(i);
            var single = provider.TryGet(SingleKey, out var value) ? value : null;
            var selection = FromValues(single, ReadList(provider), provider.ToString() ?? provider.GetType().Name);
            if (selection is not null)
            {
                return selection;
            }
        }

        return null;
    }

    private static TransportSelection? FromValues(string? single, List<string>? list, string source)
    {
        var hasSingle = !string.IsNullOrWhiteSpace(single);
        if (list is null)
        {
            return hasSingle ? new TransportSelection([single!.Trim()], SingleKey, null) : null;
        }

        string? conflict = null;
        if (hasSingle && !(list.Count == 1 && string.Equals(list[0], single!.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            conflict = $"{SingleKey} ('{single}') and {ListKey} ({string.Join(", ", list)}) are both set in {source}; keep one of them (the list replaces the single name).";
        }

        return new TransportSelection(list, ListKey, conflict);
    }

    private static List<string>? ReadList(IConfiguration configuration)
    {
        var section = configuration.GetSection(ListKey);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return Split(section.Value);
        }

        var names = new List<string>();
        foreach (var child in section.GetChildren())
        {
            names.Add(child.Value?.Trim() ?? string.Empty);
        }

        return names.Count == 0 ? null : names;
    }

    private static List<string>? ReadList(IConfigurationProvider provider)
    {
        if (provider.TryGet(ListKey, out var scalar) && !string.IsNullOrWhiteSpace(scalar))
        {
            return Split(scalar);
        }

        // Child keys come back once per value below them; list entries are "0", "1", … and keep their numeric order.
        var keys = new SortedSet<string>(Comparer<string>.Create(CompareIndexes));
        foreach (var key in provider.GetChildKeys([], ListKey))
        {
            keys.Add(key);
        }

        if (keys.Count == 0)
        {
            return null;
        }

        var names = new List<string>(keys.Count);
        foreach (var key in keys)
        {
            names.Add(provider.TryGet($"{ListKey}:{key}", out var name) ? name?.Trim() ?? string.Empty : string.Empty);
        }

        return names;
    }

    private static int CompareIndexes(string a, string b) =>
        int.TryParse(a, out var x) && int.TryParse(b, out var y) ? x.CompareTo(y) : string.CompareOrdinal(a, b);

    private static List<string> Split(string value)
    {
        var names = new List<string>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            names.Add(part);
        }

        return names;
    }
}
