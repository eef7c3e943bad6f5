using Microsoft.Extensions.Options;
using Plexus.Hosting.Configuration;
using Plexus.Hosting.Plugins;

namespace Plexus.Hosting.Composition;

/// <summary>
/// The one place that turns names in configuration into implementations. Everything else asks this for a
/// contract and never learns which plugin provides it.
/// </summary>
internal sealed class PlexusComposition
{
    private readonly Lazy<NamedComponents<ITransportFactory>> _transports;
    private readonly Lazy<NamedComponents<IFrameCodec>> _codecs;
    private readonly Lazy<NamedComponents<IRouterStrategy>> _routers;
    private readonly Lazy<NamedComponents<IDiscoveryProvider>> _discovery;
    private readonly Lazy<NamedComponents<IBulkTransport>> _bulk;
    private readonly PlexusOptions _options;

    public PlexusComposition(IServiceProvider services, IOptions<PlexusOptions> options, PluginCatalog plugins)
    {
        _options = options.Value;
        _transports = new(() => Collect<ITransportFactory>(services, plugins, t => t.Name, "transport", _options.RequestPlane.ServingTransportsKey));
        _codecs = new(() => Collect<IFrameCodec>(services, plugins, c => c.Name, "codec", "Plexus:RequestPlane:Codec"));
        _routers = new(() => Collect<IRouterStrategy>(services, plugins, r => r.Name, "router strategy", "Plexus:Router:Strategy"));
        _discovery = new(() => Collect<IDiscoveryProvider>(services, plugins, d => d.Name, "discovery provider", "Plexus:Discovery:Provider"));
        _bulk = new(() => Collect<IBulkTransport>(services, plugins, b => b.Name, "bulk transport", "Plexus:Bulk:Transport"));
    }

    public NamedComponents<ITransportFactory> Transports => _transports.Value;

    public NamedComponents<IFrameCodec> Codecs => _codecs.Value;

    public NamedComponents<IRouterStrategy> Routers => _routers.Value;

    public NamedComponents<IDiscoveryProvider> DiscoveryProviders => _discovery.Value;

    public NamedComponents<IBulkTransport> BulkTransports => _bulk.Value;

    /// <summary>The bulk transport large payloads move by, or null when <c>Plexus:Bulk:Transport</c> is empty.</summary>
    public IBulkTransport? Bulk => string.IsNullOrWhiteSpace(_options.Bulk.Transport) ? null : BulkTransports.Get(_options.Bulk.Transport);

    /// <summary>The transports that serve this process's endpoints, in its order of preference (at least one).</summary>
    public IReadOnlyList<ITransportFactory> ServingTransports
    {
        get
        {
            var names = _options.RequestPlane.ServingTransports;
            var transports = new ITransportFactory[names.Count];
            for (var i = 0; i < transports.Length; i++)
            {
                transports[i] = Transports.Get(names[i]);
            }

            return transports;
        }
    }

    /// <summary>The transport this process prefers: the first it serves on.</summary>
    public ITransportFactory ServingTransport => ServingTransports[0];

    /// <summary>The codec transports that frame bytes use.</summary>
    public IFrameCodec Codec => Codecs.Get(_options.RequestPlane.Codec);

    /// <summary>The router strategy clients use.</summary>
    public IRouterStrategy Router => Routers.Get(_options.Router.Strategy);

    /// <summary>The discovery provider.</summary>
    public IDiscoveryProvider Discovery => DiscoveryProviders.Get(_options.Discovery.Provider);

    /// <summary>Resolves every configured selection now, so that a bad name stops the start with its key.</summary>
    public void Validate()
    {
        _ = ServingTransports;
        _ = Codec;
        _ = Router;
        _ = Discovery;
        _ = Bulk;
    }

    /// <summary>Creates every component of every contract, so that plugins whose constructors fail are known.</summary>
    public void ActivateAll()
    {
        _ = Transports;
        _ = Codecs;
        _ = Routers;
        _ = DiscoveryProviders;
        _ = BulkTransports;
    }

    private static NamedComponents<T> Collect<T>(IServiceProvider services, PluginCatalog plugins, Func<T, string> nameOf, string kind, string key)
        where T : class
    {
        var all = new List<T>();
        foreach (var component in (IEnumerable<T>)services.GetService(typeof(IEnumerable<T>))!)
        {
            all.Add(component);
        }

        all.AddRange(plugins.Activate<T>(services));
        return new NamedComponents<T>(all, nameOf, kind, key, () => PluginsNotLoaded.From(plugins));
    }
}
