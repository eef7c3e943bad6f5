using System.Text.Json;
using Plexus.Hosting.Plugins;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// Runs the real host: <c>Plexus.Host plugins --json</c> lists the plugins from the <see cref="PluginCatalog"/>, and a
/// required plugin that fails stops the host with exit code 3 and its failure line on stderr.
/// </summary>
public sealed class HostProcessTests
{
    [Fact]
    public async Task Required_failing_plugin_stops_the_host_with_exit_code_3_and_its_line()
    {
        using var temp = new TempDirectory();
        temp.Link("good");
        temp.Link("throwing-entry");
        string? expectedLine = ExpectedFailure(temp.Path, "throwing-entry");

        (int exitCode, string stdout, string stderr) = await RunHostAsync("plugins", "--json", $"--Plexus:Plugins:Paths:0={temp.Path}", "--Plexus:Plugins:Required:0=throwing-entry");

        Assert.True(exitCode == 3, $"exit code {exitCode}; stdout: {stdout}; stderr: {stderr}");
        FailureLine.Assert(expectedLine, "throwing-entry", "The entry cannot start");
        Assert.Contains(expectedLine!, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Optional_failures_exit_0_and_the_json_lists_every_plugin()
    {
        using var temp = new TempDirectory();
        temp.Link("good");
        temp.Link("incompatible");
        temp.Link("throwing-entry");
        string empty = temp.Folder("empty");
        File.WriteAllBytes(Path.Combine(empty, "Empty.dll"), []);

        (int exitCode, string stdout, string stderr) = await RunHostAsync("plugins", "--json", $"--Plexus:Plugins:Paths:0={temp.Path}");

        Assert.True(exitCode == 0, $"exit code {exitCode}; stdout: {stdout}; stderr: {stderr}");
        Assert.False(string.IsNullOrWhiteSpace(stdout), $"no JSON on stdout; stderr: {stderr}");
        using JsonDocument json = JsonDocument.Parse(stdout);
        Assert.Equal(JsonValueKind.Array, json.RootElement.ValueKind);
        Dictionary<string, JsonElement> byName = json.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);

        JsonElement good = byName["good"];
        Assert.Equal("1.2.3", good.GetProperty("version").GetString());
        Assert.Contains("transport", good.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("2.7.0", good.GetProperty("abstractionsVersion").GetString());
        Assert.Equal("loaded", good.GetProperty("status").GetString(), ignoreCase: true);
        Assert.Equal(JsonValueKind.Null, good.GetProperty("error").ValueKind);

        foreach ((string name, string cause) in new[] { ("incompatible", "major versions differ"), ("throwing-entry", "The entry cannot start"), ("empty", "not a valid .NET assembly") })
        {
            JsonElement plugin = byName[name];
            Assert.Equal("failed", plugin.GetProperty("status").GetString(), ignoreCase: true);
            Assert.True(plugin.TryGetProperty("version", out _));
            Assert.True(plugin.TryGetProperty("kinds", out _));
            Assert.True(plugin.TryGetProperty("abstractionsVersion", out _));
            FailureLine.Assert(plugin.GetProperty("error").GetString(), name, cause);
        }

        Assert.Equal("99.0.0", byName["incompatible"].GetProperty("abstractionsVersion").GetString());
    }

    [Fact]
    public void The_plugins_shipped_beside_the_host_all_load()
    {
        string hostDirectory = Path.GetDirectoryName(HostDll())!;
        Assert.True(Directory.Exists(Path.Combine(hostDirectory, "plugins")), "the host has no plugins/ folder");

        var loaded = TestPlugins.Load(new PluginLoaderOptions(), baseDirectory: hostDirectory);

        Assert.NotEmpty(loaded.Catalog.Plugins);
        Assert.Empty(loaded.Catalog.Failures);
        Assert.Contains(loaded.Catalog.Plugins, p => p.Name == "memory");
        PluginInfo twopart = Assert.Single(loaded.Catalog.Plugins, p => p.Name == "twopart");
        Assert.Equal(["codec"], twopart.Kinds);
    }

    private static string? ExpectedFailure(string pluginsPath, string name)
    {
        var loaded = TestPlugins.Load(new PluginLoaderOptions { Paths = [pluginsPath] });
        return loaded[name].Error;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunHostAsync(params string[] arguments)
    {
        var result = await HostProcess.RunAsync(TimeSpan.FromSeconds(60), arguments);
        return (result.ExitCode, result.StandardOutput, result.StandardError);
    }

    private static string HostDll() => HostProcess.HostDll;
}
