using System.Reflection;

namespace Plexus.Hosting.Plugins;

/// <summary>Finds the classes of a plugin's main assembly marked <see cref="PlexusEndpointAttribute"/> and checks them.</summary>
internal static class PluginEndpointScan
{
    /// <summary>The endpoints the assembly's marked classes serve, or why the plugin cannot serve them.</summary>
    /// <param name="plugin">The plugin's name.</param>
    /// <param name="assembly">The plugin's main assembly.</param>
    /// <returns>The endpoints, ordered by address; or a cause and a fix for the plugin's failure line.</returns>
    public static (IReadOnlyList<PluginEndpoint> Endpoints, string? Cause, string? Fix) Find(string plugin, Assembly assembly)
    {
        var endpoints = new List<PluginEndpoint>();
        var byAddress = new Dictionary<EndpointAddress, Type>();
        foreach (Type type in assembly.GetTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            // Sorted, because the order attributes come back in is not defined and the failure line should not vary.
            string[] declared = type.GetCustomAttributes<PlexusEndpointAttribute>(inherit: false).Select(a => a.Endpoint).Order(StringComparer.Ordinal).ToArray();
            if (declared.Length == 0)
            {
                continue;
            }

            if (!typeof(IEndpointHandler).IsAssignableFrom(type) || !type.IsClass)
            {
                return Failure($"{type.FullName} is marked [PlexusEndpoint] but does not implement IEndpointHandler", "implement IEndpointHandler on the class, or remove the attribute");
            }

            if (type.IsAbstract || type.IsGenericTypeDefinition)
            {
                return Failure($"{type.FullName} is marked [PlexusEndpoint] but is abstract or generic, so it cannot be created", "mark a concrete, non-generic class");
            }

            foreach (string text in declared)
            {
                if (!EndpointAddress.TryParse(text, out EndpointAddress address))
                {
                    return Failure(
                        $"{type.FullName} is marked [PlexusEndpoint(\"{text}\")], which is not an endpoint address",
                        "write it as namespace/component/endpoint, each segment 1 to 64 ASCII letters, digits, '-', '_' or '.'");
                }

                if (byAddress.TryGetValue(address, out Type? first))
                {
                    return Failure(
                        first == type ? $"{type.FullName} is marked [PlexusEndpoint(\"{address}\")] twice" : $"{first.FullName} and {type.FullName} both serve {address}",
                        "mark one class once per endpoint");
                }

                byAddress[address] = type;
                endpoints.Add(new PluginEndpoint(plugin, address, type));
            }
        }

        endpoints.Sort((a, b) => string.CompareOrdinal(a.Endpoint.ToString(), b.Endpoint.ToString()));
        return (endpoints, null, null);
    }

    private static (IReadOnlyList<PluginEndpoint>, string?, string?) Failure(string cause, string fix) => ([], cause, fix);
}
