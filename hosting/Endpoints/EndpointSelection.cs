using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane.Server;

namespace Plexus.Hosting.Endpoints;

/// <summary>
/// Decides which endpoints the node serves: every endpoint registered in code, and the endpoints of the loaded service
/// plugins that <c>Plexus:Endpoints</c> selects, renamed into its namespace. The server asks once, when it starts.
/// </summary>
internal sealed partial class EndpointSelection
{
    private readonly IServiceProvider _services;
    private readonly IOptions<EndpointSelectionOptions> _options;
    private readonly IOptions<PlexusOptions> _plexus;
    private readonly PluginCatalog? _catalog;
    private readonly ILogger<EndpointSelection> _logger;

    /// <summary>Creates the selection.</summary>
    /// <param name="services">The container the plugins' handlers are registered in.</param>
    /// <param name="options"><c>Plexus:Endpoints</c>.</param>
    /// <param name="plexus">The <c>Plexus</c> section, for <c>Plexus:Server:Enabled</c>.</param>
    /// <param name="logger">Where each plugin endpoint served or left out is logged.</param>
    /// <param name="catalog">The loaded plugins; null when the container has none, so only code registrations are served.</param>
    public EndpointSelection(
        IServiceProvider services,
        IOptions<EndpointSelectionOptions> options,
        IOptions<PlexusOptions> plexus,
        ILogger<EndpointSelection> logger,
        PluginCatalog? catalog = null)
    {
        _services = services;
        _options = options;
        _plexus = plexus;
        _logger = logger;
        _catalog = catalog;
    }

    /// <summary>
    /// The endpoints to serve: <paramref name="registered"/> first, then the selected plugin endpoints, each with a
    /// handler created by the container. Handlers of endpoints not selected are never created. A node that does not
    /// serve (<c>Plexus:Server:Enabled</c> false) gets <paramref name="registered"/> alone.
    /// </summary>
    /// <param name="registered">The endpoints registered in code, always served.</param>
    /// <returns>A new list.</returns>
    /// <exception cref="PlexusConfigurationException">An address in <c>Plexus:Endpoints:Include</c> names no endpoint, or
    /// two plugin endpoints would be served under one address.</exception>
    /// <exception cref="PluginLoadException">The handler of a required plugin could not be created.</exception>
    public List<EndpointRegistration> Select(IEnumerable<EndpointRegistration> registered)
    {
        var result = new List<EndpointRegistration>(registered);
        if (_catalog is null || !_plexus.Value.Server.Enabled)
        {
            return result;
        }

        var options = _options.Value;
        var include = Parse(nameof(options.Include), options.Include);
        var exclude = Parse(nameof(options.Exclude), options.Exclude);
        var ns = string.IsNullOrEmpty(options.Namespace) ? null : options.Namespace;
        var inCode = result.Select(r => r.Endpoint).ToHashSet();
        var candidates = _catalog.Plugins.Where(p => p.Status == PluginStatus.Loaded).SelectMany(p => p.Endpoints).ToList();

        CheckPatterns(include, exclude, candidates, inCode, ns);

        var selected = new List<(PluginEndpoint Declared, EndpointAddress Served)>();
        foreach (var candidate in candidates)
        {
            var served = Rename(candidate.Endpoint, ns);
            if (include.Count > 0 && !include.Any(p => Matches(p.Pattern, candidate.Endpoint, served)))
            {
                LogNotSelected(served, candidate.Plugin, $"it matches nothing in {EndpointSelectionOptions.SectionName}:Include");
                continue;
            }

            if (exclude.FirstOrDefault(p => Matches(p.Pattern, candidate.Endpoint, served)) is { Key: not null } excluded)
            {
                LogNotSelected(served, candidate.Plugin, $"{excluded.Key} ('{excluded.Pattern}') excludes it");
                continue;
            }

            if (inCode.Contains(served))
            {
                LogShadowed(served, candidate.Plugin);
                continue;
            }

            selected.Add((candidate, served));
        }

        foreach (var clash in selected.GroupBy(s => s.Served).Where(g => g.Count() > 1))
        {
            var who = string.Join(" and ", clash.Select(s => $"{s.Declared.Endpoint} of plugin '{s.Declared.Plugin}' ({s.Declared.HandlerType.FullName})"));
            throw new PlexusConfigurationException(
                $"{who} would {(clash.Count() == 2 ? "both" : "all")} be served as {clash.Key}{(ns is null ? "" : $" ({EndpointSelectionOptions.SectionName}:Namespace is '{ns}')")}. " +
                $"Fix: leave all but one out with {EndpointSelectionOptions.SectionName}:Exclude, or disable a plugin in Plexus:Plugins:Disabled.");
        }

        // A plugin whose handler cannot be created is marked failed by the catalog and its endpoints are left out.
        var handlers = _catalog.ActivateHandlers(selected.Select(s => s.Declared), _services);
        foreach (var (declared, served) in selected)
        {
            if (handlers.TryGetValue(declared.HandlerType, out var handler))
            {
                result.Add(new EndpointRegistration(served, _ => handler));
                LogSelected(served, declared.Plugin, declared.HandlerType.FullName);
            }
        }

        return result;
    }

    private static bool Matches(EndpointPattern pattern, EndpointAddress declared, EndpointAddress served) =>
        pattern.Matches(declared) || pattern.Matches(served);

    private static List<(string Key, EndpointPattern Pattern)> Parse(string list, IList<string> patterns)
    {
        var parsed = new List<(string, EndpointPattern)>(patterns.Count);
        for (var i = 0; i < patterns.Count; i++)
        {
            var key = $"{EndpointSelectionOptions.SectionName}:{list}:{i}";

            // The validator refuses bad patterns at start; this only guards options that were never validated.
            parsed.Add((key, EndpointPattern.TryParse(patterns[i], out var pattern)
                ? pattern
                : throw new PlexusConfigurationException($"{key} is '{patterns[i]}', not an endpoint pattern.")));
        }

        return parsed;
    }

    private void CheckPatterns(
        List<(string Key, EndpointPattern Pattern)> include,
        List<(string Key, EndpointPattern Pattern)> exclude,
        List<PluginEndpoint> candidates,
        HashSet<EndpointAddress> inCode,
        string? ns)
    {
        foreach (var (key, pattern) in include)
        {
            if (!candidates.Any(c => Matches(pattern, c.Endpoint, Rename(c.Endpoint, ns))) && !inCode.Any(pattern.Matches))
            {
                // An address asked for by name that nothing serves is a mistake; a pattern may match nothing on some nodes.
                if (!pattern.HasWildcard)
                {
                    var available = candidates.Count == 0 ? "none is loaded" : "loaded: " + string.Join(", ", candidates.Select(c => c.Endpoint.ToString()).Distinct());
                    throw new PlexusConfigurationException(
                        $"{key} is '{pattern}', but no loaded plugin serves that endpoint ({available}). " +
                        "Fix: correct the address, or add the plugin that serves it to the plugins folder or Plexus:Plugins:Paths.");
                }

                LogMatchesNothing(key, pattern.Text);
            }
        }

        foreach (var (key, pattern) in exclude)
        {
            if (!candidates.Any(c => Matches(pattern, c.Endpoint, Rename(c.Endpoint, ns))))
            {
                LogMatchesNothing(key, pattern.Text);
            }
        }
    }

    private static EndpointAddress Rename(EndpointAddress declared, string? ns) =>
        ns is null ? declared : new EndpointAddress(ns, declared.Component, declared.Endpoint);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Debug, Message = "Serving {Endpoint} of plugin {Plugin} with {Handler}.")]
    private partial void LogSelected(EndpointAddress endpoint, string plugin, string? handler);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Debug, Message = "Not serving {Endpoint} of plugin {Plugin}: {Reason}.")]
    private partial void LogNotSelected(EndpointAddress endpoint, string plugin, string reason);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "{Key} ('{Pattern}') matches no endpoint of a loaded plugin.")]
    private partial void LogMatchesNothing(string key, string pattern);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Not serving {Endpoint} of plugin {Plugin}: an endpoint registered in code has that address and is served instead.")]
    private partial void LogShadowed(EndpointAddress endpoint, string plugin);
}
