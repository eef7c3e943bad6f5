using Plexus.Hosting.Composition;

namespace Plexus.Host.Tests.Composition;

public sealed class NamedComponentsTests
{
    private sealed record Named(string Name);

    private sealed record OtherNamed(string Name);

    [Fact]
    public void Finds_by_name_ignoring_case()
    {
        var components = new NamedComponents<Named>([new Named("tcp"), new Named("memory")], n => n.Name, "transport", "Plexus:RequestPlane:Transport");

        Assert.Equal("memory", components.Get("Memory").Name);
        Assert.Equal(["memory", "tcp"], components.Names);
    }

    [Fact]
    public void Unknown_name_lists_what_is_available_and_names_the_key()
    {
        var components = new NamedComponents<Named>([new Named("tcp"), new Named("memory")], n => n.Name, "transport", "Plexus:RequestPlane:Transport");

        var ex = Assert.Throws<PlexusConfigurationException>(() => components.Get("quic"));
        Assert.Contains("Plexus:RequestPlane:Transport", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'quic'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("memory, tcp", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_name_also_names_the_plugins_that_were_found_but_not_loaded()
    {
        var components = new NamedComponents<Named>(
            [new Named("memory")], n => n.Name, "transport", "Plexus:RequestPlane:Transport", () => new PluginsNotLoaded(["tcp"], ["quic"]));

        var ex = Assert.Throws<PlexusConfigurationException>(() => components.Get("tcp"));

        Assert.Equal(
            "Plexus:RequestPlane:Transport is 'tcp', but no transport of that name is loaded (available: memory; disabled by Plexus:Plugins:Disabled: tcp; failed to load: quic). "
            + "Fix: set Plexus:RequestPlane:Transport to one of those, or add the plugin that provides 'tcp' to the plugins folder, or mend the refused plugin that may provide it ('plugins' lists why each was refused), or take it out of Plexus:Plugins:Disabled if it is disabled.",
            ex.Message);
    }

    [Fact]
    public void A_name_whose_plugin_is_present_but_refused_gets_the_refusal_not_advice_to_add_it()
    {
        var refusal = "Plugin 'uds' (/opt/plexus/plugins/uds): built against Plexus.Abstractions 9.0.0, but this host has 2.7.0 (major versions differ). Fix: rebuild the plugin against Plexus.Abstractions 2.x, or run a host built on 9.x.";
        var components = new NamedComponents<Named>(
            [new Named("memory")], n => n.Name, "transport", "Plexus:RequestPlane:Transport", () => new PluginsNotLoaded([], ["uds"], new Dictionary<string, string> { ["uds"] = refusal }));

        var ex = Assert.Throws<PlexusConfigurationException>(() => components.Get("uds"));

        Assert.Equal($"Plexus:RequestPlane:Transport is 'uds', and the plugin 'uds' is in the plugins folder but was refused. {refusal}", ex.Message);
        Assert.DoesNotContain("add the plugin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_different_components_with_one_name_are_refused()
    {
        var ex = Assert.Throws<PlexusConfigurationException>(() =>
            new NamedComponents<object>([new Named("tcp"), new OtherNamed("tcp")], o => o is Named n ? n.Name : ((OtherNamed)o).Name, "transport", "k"));
        Assert.Contains("Two transports are named 'tcp'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_type_registered_twice_counts_once()
    {
        var components = new NamedComponents<Named>([new Named("tcp"), new Named("tcp")], n => n.Name, "transport", "k");

        Assert.Single(components.Names);
    }
}
