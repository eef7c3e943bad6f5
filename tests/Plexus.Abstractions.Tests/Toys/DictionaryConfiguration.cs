using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Plexus.Abstractions.Tests.Toys;

/// <summary>
/// A read-only configuration over flat <c>a:b:c</c> keys: all a plugin can lean on is the configuration
/// abstractions, so its tests bring their own.
/// </summary>
internal sealed class DictionaryConfiguration : IConfigurationSection
{
    private readonly Dictionary<string, string?> _values;

    public DictionaryConfiguration(IDictionary<string, string?> values, string path = "")
    {
        _values = new Dictionary<string, string?>(values, StringComparer.OrdinalIgnoreCase);
        Path = path;
    }

    public string Key => Path[(Path.LastIndexOf(':') + 1)..];

    public string Path { get; }

    public string? Value
    {
        get => _values.GetValueOrDefault(Path);
        set => throw new NotSupportedException("This configuration is read-only.");
    }

    public string? this[string key]
    {
        get => _values.GetValueOrDefault(Combine(key));
        set => throw new NotSupportedException("This configuration is read-only.");
    }

    public IConfigurationSection GetSection(string key) => new DictionaryConfiguration(_values, Combine(key));

    public IEnumerable<IConfigurationSection> GetChildren()
    {
        var prefix = Path.Length == 0 ? string.Empty : Path + ":";
        var children = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in _values.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                var rest = key[prefix.Length..];
                var end = rest.IndexOf(':', StringComparison.Ordinal);
                children.Add(end < 0 ? rest : rest[..end]);
            }
        }

        foreach (var child in children)
        {
            yield return GetSection(child);
        }
    }

    public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

    private string Combine(string key) => Path.Length == 0 ? key : Path + ":" + key;
}
