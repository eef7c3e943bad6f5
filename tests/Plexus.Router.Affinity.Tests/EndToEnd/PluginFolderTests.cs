using System.Text.Json;
using Plexus.Host.Tests.Support;
using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests.EndToEnd;

/// <summary>The plugin as the stock host sees it: loaded from its folder, selected by name, refused when built wrong.</summary>
public sealed class PluginFolderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>One process serving the demo endpoints itself: the in-process transport and discovery.</summary>
    private static readonly string[] InProcess =
    [
        "--Plexus:RequestPlane:Transport=memory", "--Plexus:Discovery:Provider=memory", "--Plexus:Router:DiscoveryWait=200ms", "--Plexus:Demo:TokenDelay=0",
    ];

    [Fact]
    public async Task The_host_loads_it_from_its_folder_as_a_router_and_refuses_a_build_against_newer_contracts_with_one_line()
    {
        var result = await HostProcess.RunAsync(Timeout, "plugins", "--json", $"--Plexus:Plugins:Paths:0={PluginFolders.Test("affinity-future")}");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var byName = json.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        var affinity = byName["affinity"];
        Assert.Equal("loaded", affinity.GetProperty("status").GetString(), ignoreCase: true);
        Assert.Equal(["router"], affinity.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("2.7.0", affinity.GetProperty("abstractionsVersion").GetString());

        var future = byName["affinity-future"];
        Assert.Equal("failed", future.GetProperty("status").GetString(), ignoreCase: true);
        var line = future.GetProperty("error").GetString()!;
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("Plugin 'affinity-future' (", line, StringComparison.Ordinal);
        Assert.Contains("built against Plexus.Abstractions 2.8.0, newer than this host's 2.7.0", line, StringComparison.Ordinal);
        Assert.Contains(". Fix: update the host to Plexus.Abstractions 2.8.0 or later", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("affinity", "plexus-affinity-key=user-7")]
    [InlineData("prefix", "plexus-prefix-blocks=00000000000000aa,00000000000000bb")]
    public async Task A_call_routes_by_the_strategy_named_in_configuration(string strategy, string header)
    {
        var result = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "hi", "--header", header, $"--Plexus:Router:Strategy={strategy}", .. InProcess]);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("hi", result.StandardOutput.Trim());
    }

    [Theory]
    [InlineData("LoadBound=0", "Plexus:Routers:Affinity:LoadBound must be a number above 0")]
    [InlineData("LoadBond=1", "Plexus:Routers:Affinity:LoadBond is not a setting of the affinity router")]
    public async Task A_bad_setting_stops_the_start_with_one_line_naming_its_key(string setting, string line)
    {
        var result = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "hi", "--Plexus:Router:Strategy=affinity", $"--Plexus:Routers:Affinity:{setting}", .. InProcess]);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains(line, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
    }
}
