using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Host.Tests.Support;
using Plexus.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Endpoints;
using Plexus.Hosting.Plugins;
using Plexus.Hosting.RequestPlane.Server;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// Which endpoints of the loaded service plugins a node serves (<c>Plexus:Endpoints</c>), with the real demo plugin
/// shipped beside the host and the greeter test plugin, whose <c>greeter/echo/echo</c> differs from the demo's
/// <c>demo/echo/echo</c> only by its namespace.
/// </summary>
public sealed class EndpointSelectionTests
{
    private static readonly string[] Demo = ["demo/echo/echo", "demo/echo/generate", "demo/echo/relay"];
    private static readonly string[] Greeter = ["greeter/echo/echo", "greeter/hello/greet", "greeter/hello/wave"];

    private static string DemoFolder => Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins", "demo");

    private sealed record Node(ServiceProvider Services, TestPlugins.Loaded Loaded) : IAsyncDisposable
    {
        public List<EndpointRegistration> Select() =>
            Services.GetRequiredService<EndpointSelection>().Select(Services.GetServices<EndpointRegistration>());

        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }

    private static Node Build(Action<IServiceCollection>? inCode = null, string[]? required = null, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Transport"] = "memory",
            ["Plexus:Discovery:Provider"] = "memory",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [TestPlugins.Folder("greeter"), DemoFolder], Required = required ?? [] }, values);
        loaded.Services.AddLogging(b => b.AddProvider(loaded.Logger).SetMinimumLevel(LogLevel.Debug));
        loaded.Services.AddPlexusRequestPlane(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        inCode?.Invoke(loaded.Services);
        return new Node(loaded.Services.BuildServiceProvider(), loaded);
    }

    private static Node Build(params (string Key, string Value)[] settings) => Build(null, null, settings);

    private static string[] Addresses(List<EndpointRegistration> served) => served.Select(r => r.Endpoint.ToString()).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task By_default_every_plugin_endpoint_is_served_under_its_declared_address()
    {
        await using var node = Build();

        var served = node.Select();

        Assert.Equal([.. Demo, .. Greeter], Addresses(served));
        Assert.Contains(node.Loaded.Logger.Entries, e => e.Id == 1401 && e.Message == "Serving greeter/hello/wave of plugin greeter with Plexus.Test.GreeterService.GreetHandler.");
    }

    [Fact]
    public async Task Include_takes_addresses_and_patterns_and_exclude_takes_out_of_them()
    {
        await using var node = Build(
            ("Plexus:Endpoints:Include:0", "demo/echo/*"),
            ("Plexus:Endpoints:Include:1", "greeter/hello/greet"),
            ("Plexus:Endpoints:Exclude:0", "*/*/re*"));

        var served = node.Select();

        Assert.Equal(["demo/echo/echo", "demo/echo/generate", "greeter/hello/greet"], Addresses(served));
        Assert.Contains(node.Loaded.Logger.Entries, e => e.Id == 1402 && e.Message == "Not serving demo/echo/relay of plugin demo: Plexus:Endpoints:Exclude:0 ('*/*/re*') excludes it.");
        Assert.Contains(node.Loaded.Logger.Entries, e => e.Id == 1402 && e.Message == "Not serving greeter/hello/wave of plugin greeter: it matches nothing in Plexus:Endpoints:Include.");
    }

    [Fact]
    public async Task Namespace_renames_every_plugin_endpoint_and_patterns_match_the_declared_or_the_served_address()
    {
        await using (var node = Build(("Plexus:Endpoints:Namespace", "alpha"), ("Plexus:Endpoints:Exclude:0", "greeter/echo/echo")))
        {
            Assert.Equal(["alpha/echo/echo", "alpha/echo/generate", "alpha/echo/relay", "alpha/hello/greet", "alpha/hello/wave"], Addresses(node.Select()));
        }

        await using (var node = Build(("Plexus:Endpoints:Namespace", "alpha"), ("Plexus:Endpoints:Include:0", "alpha/hello/*")))
        {
            Assert.Equal(["alpha/hello/greet", "alpha/hello/wave"], Addresses(node.Select()));
        }
    }

    [Fact]
    public async Task A_namespace_under_which_two_plugin_endpoints_share_an_address_is_refused_naming_both()
    {
        await using var node = Build(("Plexus:Endpoints:Namespace", "alpha"));

        var ex = Assert.Throws<PlexusConfigurationException>(() => node.Select());

        Assert.Contains("demo/echo/echo of plugin 'demo' (Plexus.Service.Demo.EchoHandler)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("greeter/echo/echo of plugin 'greeter' (Plexus.Test.GreeterService.EchoBackHandler)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("served as alpha/echo/echo (Plexus:Endpoints:Namespace is 'alpha')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: leave all but one out with Plexus:Endpoints:Exclude", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_in_include_that_nothing_serves_is_refused_but_a_pattern_only_warns()
    {
        await using (var node = Build(("Plexus:Endpoints:Include:0", "demo/echo/echo"), ("Plexus:Endpoints:Include:1", "demo/echo/ecko")))
        {
            var ex = Assert.Throws<PlexusConfigurationException>(() => node.Select());
            Assert.StartsWith("Plexus:Endpoints:Include:1 is 'demo/echo/ecko', but no loaded plugin serves that endpoint (loaded: ", ex.Message, StringComparison.Ordinal);
            Assert.Contains(" demo/echo/echo, ", ex.Message, StringComparison.Ordinal);
        }

        await using (var node = Build(("Plexus:Endpoints:Include:0", "demo/echo/echo"), ("Plexus:Endpoints:Include:1", "nothing/*/*"), ("Plexus:Endpoints:Exclude:0", "gone/echo/echo")))
        {
            Assert.Equal(["demo/echo/echo"], Addresses(node.Select()));
            Assert.Contains(node.Loaded.Logger.Entries, e => e is { Id: 1403, Level: LogLevel.Warning } && e.Message == "Plexus:Endpoints:Include:1 ('nothing/*/*') matches no endpoint of a loaded plugin.");
            Assert.Contains(node.Loaded.Logger.Entries, e => e is { Id: 1403, Level: LogLevel.Warning } && e.Message.StartsWith("Plexus:Endpoints:Exclude:0", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Endpoints_registered_in_code_are_always_served_and_win_over_a_plugin_endpoint_at_their_address()
    {
        var mine = new FixedHandler();
        await using (var node = Build(s => s.AddPlexusEndpoint("code/only/one", _ => mine), null, ("Plexus:Endpoints:Exclude:0", "*/*/*")))
        {
            var served = Assert.Single(node.Select());
            Assert.Equal("code/only/one", served.Endpoint.ToString());
        }

        await using (var node = Build(s => s.AddPlexusEndpoint("demo/echo/echo", _ => mine), null))
        {
            var served = node.Select();
            var echo = Assert.Single(served, r => r.Endpoint.ToString() == "demo/echo/echo");
            Assert.Same(mine, echo.CreateHandler(node.Services));
            Assert.Equal(6, served.Count);
            Assert.Contains(node.Loaded.Logger.Entries, e => e is { Id: 1404, Level: LogLevel.Warning } && e.Message.StartsWith("Not serving demo/echo/echo of plugin demo", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Handlers_come_from_the_container_one_instance_per_class()
    {
        await using var node = Build();

        var served = node.Select().ToDictionary(r => r.Endpoint.ToString());

        var greet = served["greeter/hello/greet"].CreateHandler(node.Services);
        Assert.Equal("Plexus.Test.GreeterService.GreetHandler", greet.GetType().FullName);
        Assert.Same(greet, served["greeter/hello/wave"].CreateHandler(node.Services));
        Assert.Same(greet, node.Services.GetRequiredService(greet.GetType()));
        Assert.Equal("Plexus.Service.Demo.RelayHandler", served["demo/echo/relay"].CreateHandler(node.Services).GetType().FullName);
    }

    [Fact]
    public async Task A_handler_whose_constructor_throws_fails_its_plugin_whose_endpoints_are_then_not_served()
    {
        await using var node = Build(("Plexus:Services:Greeter:Greeting", ""));

        Assert.Equal(Demo, Addresses(node.Select()));

        PluginInfo greeter = node.Loaded["greeter"];
        Assert.Equal(PluginStatus.Failed, greeter.Status);
        FailureLine.Assert(greeter.Error, "greeter", "the constructor of Plexus.Test.GreeterService.GreetHandler threw InvalidOperationException: Plexus:Services:Greeter:Greeting is empty");
        Assert.Contains(node.Loaded.Logger.Entries, e => e.Level == LogLevel.Warning && e.Message == greeter.Error);
    }

    [Fact]
    public async Task A_required_plugin_whose_handler_cannot_be_created_stops_the_start()
    {
        await using var node = Build(null, ["greeter"], ("Plexus:Services:Greeter:Greeting", ""));

        var ex = Assert.Throws<PluginLoadException>(() => node.Select());

        FailureLine.Assert(Assert.Single(ex.Lines), "greeter", "Plexus:Services:Greeter:Greeting is empty");
    }

    [Fact]
    public async Task Handlers_of_endpoints_left_out_or_of_a_node_that_does_not_serve_are_never_created()
    {
        await using (var node = Build(("Plexus:Services:Greeter:Greeting", ""), ("Plexus:Endpoints:Exclude:0", "greeter/hello/*")))
        {
            Assert.Equal([.. Demo, "greeter/echo/echo"], Addresses(node.Select()));
            Assert.Equal(PluginStatus.Loaded, node.Loaded["greeter"].Status);
        }

        await using (var node = Build(("Plexus:Services:Greeter:Greeting", ""), ("Plexus:Server:Enabled", "false")))
        {
            Assert.Empty(node.Select());
            Assert.Equal(PluginStatus.Loaded, node.Loaded["greeter"].Status);
        }
    }

    [Theory]
    [InlineData("Plexus:Endpoints:Include:0", "demo/echo", "Plexus:Endpoints:Include:0 is 'demo/echo'; write namespace/component/endpoint, where '*' in a segment stands for any characters (demo/echo/*, */echo/echo).")]
    [InlineData("Plexus:Endpoints:Exclude:0", "demo/echo/e o", "Plexus:Endpoints:Exclude:0 is 'demo/echo/e o'; write namespace/component/endpoint, where '*' in a segment stands for any characters (demo/echo/*, */echo/echo).")]
    [InlineData("Plexus:Endpoints:Namespace", "al/pha", "Plexus:Endpoints:Namespace is 'al/pha'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.")]
    [InlineData("Plexus:Endpoints:Include", "demo/echo/echo", "Plexus:Endpoints:Include is 'demo/echo/echo', a single value; it is a list: write Plexus:Endpoints:Include:0=demo/echo/echo.")]
    public async Task Bad_settings_are_refused_naming_the_key(string key, string value, string failure)
    {
        await using var node = Build((key, value));

        var ex = Assert.Throws<OptionsValidationException>(() => node.Services.GetRequiredService<IOptions<EndpointSelectionOptions>>().Value);

        Assert.Equal([failure], ex.Failures);
    }

    [Theory]
    [InlineData("demo/echo/*", "demo/echo/generate", true)]
    [InlineData("*/echo/echo", "greeter/echo/echo", true)]
    [InlineData("demo/*/gen*", "demo/echo/generate", true)]
    [InlineData("demo/*/*ate", "demo/echo/generate", true)]
    [InlineData("d*o/e*h*o/*", "demo/echo/echo", true)]
    [InlineData("demo/echo/gen*", "demo/echo/relay", false)]
    [InlineData("demo/echo/echo", "demo/echo/echo2", false)]
    [InlineData("Demo/echo/echo", "demo/echo/echo", false)]
    [InlineData("*/*/*", "a/b/c", true)]
    public void A_star_stands_for_any_characters_within_one_segment(string pattern, string address, bool matches)
    {
        Assert.True(EndpointPattern.TryParse(pattern, out var parsed));
        Assert.Equal(matches, parsed.Matches(EndpointAddress.Parse(address)));
    }

    private sealed class FixedHandler : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => ValueTask.CompletedTask;
    }
}
