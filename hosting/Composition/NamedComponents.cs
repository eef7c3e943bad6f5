namespace Plexus.Hosting.Composition;

/// <summary>The components of one contract that this host has, by name: built-in ones and those of loaded plugins.</summary>
/// <typeparam name="T">The contract.</typeparam>
internal sealed class NamedComponents<T>
    where T : class
{
    private readonly Dictionary<string, T> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _kind;
    private readonly string _key;
    private readonly Func<PluginsNotLoaded>? _notLoaded;

    /// <param name="components">Every component of the contract, built-in first.</param>
    /// <param name="nameOf">Reads a component's name.</param>
    /// <param name="kind">What the contract is called in messages, such as "transport".</param>
    /// <param name="key">The configuration key that selects one.</param>
    /// <param name="notLoaded">The plugins that were found but not loaded, for the message of a name nothing provides.</param>
    public NamedComponents(IEnumerable<T> components, Func<T, string> nameOf, string kind, string key, Func<PluginsNotLoaded>? notLoaded = null)
    {
        _kind = kind;
        _key = key;
        _notLoaded = notLoaded;
        foreach (var component in components)
        {
            var name = nameOf(component);
            if (_byName.TryGetValue(name, out var existing))
            {
                if (existing.GetType() == component.GetType())
                {
                    continue;
                }

                throw new PlexusConfigurationException(
                    $"Two {kind}s are named '{name}': {existing.GetType().FullName} ({existing.GetType().Assembly.GetName().Name}) and {component.GetType().FullName} ({component.GetType().Assembly.GetName().Name}). Fix: remove one of the plugins, or disable one with Plexus:Plugins:Disabled.");
            }

            _byName.Add(name, component);
        }
    }

    /// <summary>The names available, sorted.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string>(_byName.Keys);
            names.Sort(StringComparer.OrdinalIgnoreCase);
            return names;
        }
    }

    /// <summary>The components, in no particular order.</summary>
    public IEnumerable<T> All => _byName.Values;

    /// <summary>Finds a component by name.</summary>
    public bool TryGet(string name, out T component) => _byName.TryGetValue(name, out component!);

    /// <summary>The component the configuration names.</summary>
    /// <exception cref="PlexusConfigurationException">None has that name.</exception>
    public T Get(string name)
    {
        if (_byName.TryGetValue(name, out var component))
        {
            return component;
        }

        // A plugin that would provide the name may be disabled or broken rather than absent; saying so points at the fix.
        var notLoaded = _notLoaded?.Invoke() ?? PluginsNotLoaded.None;

        // The plugin that would provide the name is there but was refused: its own line says why and what to do,
        // which "add the plugin" would contradict.
        if (notLoaded.FailureOf(name) is { } refused)
        {
            throw new PlexusConfigurationException($"{_key} is '{name}', and the plugin '{name}' is in the plugins folder but was refused. {refused}");
        }

        var facts = new List<string> { Names.Count == 0 ? $"no {_kind} is loaded" : "available: " + string.Join(", ", Names) };
        if (notLoaded.Disabled.Count > 0)
        {
            facts.Add("disabled by Plexus:Plugins:Disabled: " + string.Join(", ", notLoaded.Disabled));
        }

        if (notLoaded.Failed.Count > 0)
        {
            facts.Add("failed to load: " + string.Join(", ", notLoaded.Failed));
        }

        var fix = Names.Count == 0
            ? $"add the plugin that provides '{name}' to the plugins folder"
            : $"set {_key} to one of those, or add the plugin that provides '{name}' to the plugins folder";
        if (notLoaded.Failed.Count > 0)
        {
            fix += $", or mend the refused plugin that may provide it ('plugins' lists why each was refused)";
        }
        if (notLoaded.Disabled.Count > 0)
        {
            fix += ", or take it out of Plexus:Plugins:Disabled if it is disabled";
        }

        throw new PlexusConfigurationException(
            $"{_key} is '{name}', but no {_kind} of that name is loaded ({string.Join("; ", facts)}). Fix: {fix}.");
    }
}
