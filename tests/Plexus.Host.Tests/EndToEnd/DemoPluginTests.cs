using System.Text.Json;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>The demo ships as the <c>demo</c> plugin beside the host, and its settings from before still work.</summary>
public sealed class DemoPluginTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static Task<HostProcess.Result> Run(params string[] args) =>
        HostProcess.RunAsync(Timeout, [.. args, "--Plexus:RequestPlane:Transport=memory", "--Plexus:Discovery:Provider=memory", "--Plexus:Router:DiscoveryWait=200ms", "--Plexus:Demo:TokenDelay=0"]);

    [Fact]
    public async Task The_demo_is_a_service_plugin_beside_the_host_serving_three_endpoints()
    {
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins", "demo", "Plexus.Service.Demo.dll")));

        var result = await Run("plugins", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var doc = JsonDocument.Parse(result.StandardOutput);
        var demo = doc.RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "demo");
        Assert.Equal("loaded", demo.GetProperty("status").GetString());
        Assert.Equal(["service"], demo.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["demo/echo/echo", "demo/echo/generate", "demo/echo/relay"], demo.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Demo_namespace_still_renames_the_demo_endpoints_unless_the_node_wide_namespace_is_set()
    {
        var renamed = await Run("call", "alpha/echo/relay", "--data", "hi", "--header", "relay-to=alpha/echo/echo", "--Plexus:Demo:Namespace=alpha");
        Assert.True(renamed.ExitCode == 0, renamed.StandardError);
        Assert.Equal("hi\n", renamed.StandardOutput);

        var node = await Run("call", "beta/echo/echo", "--data", "hi", "--Plexus:Demo:Namespace=alpha", "--Plexus:Endpoints:Namespace=beta");
        Assert.True(node.ExitCode == 0, node.StandardError);
        Assert.Equal("hi\n", node.StandardOutput);

        var bad = await Run("call", "demo/echo/echo", "--data", "hi", "--Plexus:Demo:Namespace=al pha");
        Assert.Equal(4, bad.ExitCode);
        Assert.Contains("Configuration error: Plexus:Demo:Namespace is 'al pha'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.", bad.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_enabled_false_disables_the_demo_plugin()
    {
        var listed = await Run("plugins", "--json", "--Plexus:Demo:Enabled=false", "--Plexus:Plugins:Disabled:0=nats");
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using (var doc = JsonDocument.Parse(listed.StandardOutput))
        {
            var status = doc.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("status").GetString());
            Assert.Equal("disabled", status["demo"]);
            Assert.Equal("disabled", status["nats"]);
            Assert.Equal("loaded", status["memory"]);
        }

        var call = await Run("call", "demo/echo/echo", "--data", "hi", "--Plexus:Demo:Enabled=false");
        Assert.Equal(1, call.ExitCode);
        Assert.Contains("Unavailable", call.StandardError, StringComparison.Ordinal);
    }
}
