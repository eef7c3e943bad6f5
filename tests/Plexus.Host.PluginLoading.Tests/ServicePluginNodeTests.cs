using System.Text.Json;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// The stock host, run as real processes, serving the greeter test plugin (built against the contracts alone) from
/// a folder named by <c>Plexus:Plugins:Paths</c>: no change to the host, no recompilation.
/// </summary>
public sealed class ServicePluginNodeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _temp = new();
    private readonly string _plugins;
    private readonly string _discovery;

    public ServicePluginNodeTests()
    {
        _plugins = _temp.Folder("plugins");
        _discovery = _temp.Folder("discovery");
        _temp.Copy("greeter", into: _plugins);
    }

    /// <summary>Settings every process of a test shares: TCP, file discovery in the test's folder, the plugin's folder.</summary>
    private string[] Over(params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_discovery}",
        "--Plexus:Discovery:File:PollInterval=50ms",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        $"--Plexus:Plugins:Paths:0={_plugins}",
        "--Plexus:Demo:TokenDelay=0",
        .. more,
    ];

    /// <summary>One process that serves its own endpoints: the in-process transport and discovery.</summary>
    private Task<HostProcess.Result> CallInProcess(params string[] args) =>
        HostProcess.RunAsync(Timeout, [
            "call", .. args,
            "--Plexus:RequestPlane:Transport=memory", "--Plexus:Discovery:Provider=memory", "--Plexus:Router:DiscoveryWait=200ms",
            $"--Plexus:Plugins:Paths:0={_plugins}", "--Plexus:Demo:TokenDelay=0",
        ]);

    [Fact]
    public async Task A_node_serves_the_dropped_in_plugin_whose_handler_calls_another_endpoint_with_its_own_options()
    {
        await using var node = await NodeProcess.StartAsync(Timeout, Over("--Plexus:NodeId=greeter-node", "--Plexus:Services:Greeter:Greeting=Bonjour", "--Plexus:Services:Greeter:Target=demo/echo/generate"));

        var greeted = await HostProcess.RunAsync(Timeout, ["call", "greeter/hello/greet", "--data", "world", .. Over()]);
        var direct = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/generate", "--data", "Bonjour, world", .. Over()]);

        Assert.True(greeted.ExitCode == 0, greeted.StandardError);
        Assert.True(direct.ExitCode == 0, direct.StandardError);
        Assert.StartsWith("Bonjour, world ", greeted.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(direct.StandardOutput, greeted.StandardOutput);

        // Its injected logger writes through the node's logging.
        Assert.Contains("Greeter at greeter/hello/greet calls demo/echo/generate.", node.Output, StringComparison.Ordinal);
        Assert.Contains("plugins loaded: affinity, demo, etcd, memory, nats, quic, rdma, tcp, twopart, greeter;", node.Output, StringComparison.Ordinal);

        var listed = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Over()]);
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using (var doc = JsonDocument.Parse(listed.StandardOutput))
        {
            var endpoints = doc.RootElement.EnumerateArray().Select(i => i.GetProperty("endpoint").GetString()).Order(StringComparer.Ordinal);
            Assert.Equal(["demo/echo/echo", "demo/echo/generate", "demo/echo/relay", "greeter/echo/echo", "greeter/hello/greet", "greeter/hello/wave"], endpoints);
        }

        Assert.Equal(0, await node.StopAsync(Timeout));
    }

    [Fact]
    public async Task The_plugins_command_lists_it_as_a_service_with_its_endpoints()
    {
        var result = await HostProcess.RunAsync(Timeout, ["plugins", "--json", $"--Plexus:Plugins:Paths:0={_plugins}"]);

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var doc = JsonDocument.Parse(result.StandardOutput);
        var byName = doc.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var greeter = byName["greeter"];
        Assert.Equal("loaded", greeter.GetProperty("status").GetString());
        Assert.Equal(["service"], greeter.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["greeter/echo/echo", "greeter/hello/greet", "greeter/hello/wave"], greeter.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["service"], byName["demo"].GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));

        var table = await HostProcess.RunAsync(Timeout, ["plugins", $"--Plexus:Plugins:Paths:0={_plugins}"]);
        Assert.True(table.ExitCode == 0, table.StandardError);
        Assert.Matches(@"│ greeter +│ 2\.0\.1 +│ service +│ 2\.7\.0 +│ loaded +│", table.StandardOutput);
    }

    [Fact]
    public async Task Include_exclude_and_namespace_choose_what_a_node_serves()
    {
        // A node-wide namespace; greeter/echo/echo left out, or it would share alpha/echo/echo with the demo.
        string[] alpha = ["--Plexus:Endpoints:Namespace=alpha", "--Plexus:Endpoints:Exclude:0=greeter/echo/echo", "--Plexus:Services:Greeter:Target=alpha/echo/echo"];
        var renamed = await CallInProcess(["alpha/hello/wave", "--data", "x", .. alpha]);
        Assert.True(renamed.ExitCode == 0, renamed.StandardError);
        Assert.Equal("Hello, x\n", renamed.StandardOutput);
        var old = await CallInProcess(["demo/echo/echo", "--data", "x", .. alpha]);
        Assert.Equal(1, old.ExitCode);
        Assert.Contains("Unavailable", old.StandardError, StringComparison.Ordinal);

        string[] only = ["--Plexus:Endpoints:Include:0=greeter/hello/greet", "--Plexus:Endpoints:Include:1=demo/echo/echo"];
        var included = await CallInProcess(["greeter/hello/greet", "--data", "y", .. only]);
        Assert.True(included.ExitCode == 0, included.StandardError);
        Assert.Equal("Hello, y\n", included.StandardOutput);
        var left = await CallInProcess(["demo/echo/generate", "--data", "y", .. only]);
        Assert.Equal(1, left.ExitCode);
        Assert.Contains("Unavailable", left.StandardError, StringComparison.Ordinal);

        var excluded = await CallInProcess("demo/echo/relay", "--data", "z", "--header", "relay-to=demo/echo/echo", "--Plexus:Endpoints:Exclude:0=*/*/re*");
        Assert.Equal(1, excluded.ExitCode);
        Assert.Contains("Unavailable", excluded.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Plexus:Endpoints:Include:0=demo/echo", "Configuration error: Plexus:Endpoints:Include:0 is 'demo/echo'; write namespace/component/endpoint")]
    [InlineData("--Plexus:Endpoints:Include:0=demo/echo/ecko", "Configuration error: Plexus:Endpoints:Include:0 is 'demo/echo/ecko', but no loaded plugin serves that endpoint (loaded: demo/echo/echo,")]
    [InlineData("--Plexus:Endpoints:Namespace=al pha", "Configuration error: Plexus:Endpoints:Namespace is 'al pha'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.")]
    [InlineData("--Plexus:Endpoints:Namespace=alpha", "Configuration error: demo/echo/echo of plugin 'demo' (Plexus.Service.Demo.EchoHandler) and greeter/echo/echo of plugin 'greeter' (Plexus.Test.GreeterService.EchoBackHandler) would both be served as alpha/echo/echo")]
    public async Task A_node_with_bad_endpoint_settings_does_not_start_and_names_the_key(string setting, string line)
    {
        var result = await HostProcess.RunAsync(Timeout, ["run", .. Over(setting)]);

        Assert.True(result.ExitCode == 4, $"exit code {result.ExitCode}; stdout: {result.StandardOutput}; stderr: {result.StandardError}");
        Assert.Contains(line, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_settings_in_several_sections_are_each_reported_on_their_own_line()
    {
        var result = await HostProcess.RunAsync(Timeout, ["run", .. Over("--Plexus:Endpoints:Include:0=demo/echo", "--Plexus:Demo:MaxTokens=-3")]);

        Assert.True(result.ExitCode == 4, $"exit code {result.ExitCode}; stderr: {result.StandardError}");
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("Configuration error: Plexus:Demo:MaxTokens must be from 0 to 100000.", lines);
        Assert.Contains(lines, l => l.StartsWith("Configuration error: Plexus:Endpoints:Include:0 is 'demo/echo';", StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
