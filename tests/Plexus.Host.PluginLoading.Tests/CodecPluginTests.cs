using System.Buffers;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// The TwoPart codec ships as a plugin folder, plugins/twopart/, like the transports: the stock host loads it by folder,
/// the TCP transport reaches it through the composition, and without it a node that needs a codec does not start.
/// </summary>
public sealed class CodecPluginTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EndpointAddress Echo = EndpointAddress.Parse("codec/echo/echo");

    [Fact]
    public async Task The_stock_host_lists_twopart_as_a_codec_plugin()
    {
        var result = await HostProcess.RunAsync(Timeout, "plugins", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        JsonElement twopart = json.RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "twopart");
        Assert.Equal("loaded", twopart.GetProperty("status").GetString());
        Assert.Equal(["codec"], twopart.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["Plexus.Codec.TwoPart.TwoPartCodec"], twopart.GetProperty("components").GetProperty("codec").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(HostPlugins.Folder("twopart"), twopart.GetProperty("folder").GetString());
    }

    [Fact]
    public async Task Disabling_twopart_while_tcp_serves_stops_the_node_with_one_line_naming_the_codec_key()
    {
        var result = await HostProcess.RunAsync(
            Timeout,
            "run",
            "--Plexus:Plugins:Disabled:0=twopart",
            "--Plexus:RequestPlane:Transport=tcp",
            "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
            "--Plexus:Discovery:Provider=memory",
            "--Plexus:Status:Enabled=false");

        Assert.True(result.ExitCode == 4, $"exit code {result.ExitCode}; stdout: {result.StandardOutput}; stderr: {result.StandardError}");
        string line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(
            "Configuration error: Plexus:RequestPlane:Codec is 'twopart', but no codec of that name is loaded (no codec is loaded; disabled by Plexus:Plugins:Disabled: twopart). "
            + "Fix: add the plugin that provides 'twopart' to the plugins folder, or take it out of Plexus:Plugins:Disabled if it is disabled.",
            line);
    }

    [Fact]
    public async Task Without_the_twopart_folder_a_tcp_node_does_not_start()
    {
        using IHost host = BuildNode(HostPlugins.Folder("tcp"));

        var error = await Assert.ThrowsAsync<PlexusConfigurationException>(() => host.StartAsync());

        Assert.StartsWith("Plexus:RequestPlane:Codec is 'twopart', but no codec of that name is loaded (no codec is loaded)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_codec_no_plugin_provides_is_refused_naming_the_key_and_the_codecs_available()
    {
        using IHost host = BuildNode(HostPlugins.Folder("tcp"), HostPlugins.Folder("twopart"), TestPlugins.Folder("good"), "--Plexus:RequestPlane:Codec=zstd-frames");

        var error = await Assert.ThrowsAsync<PlexusConfigurationException>(() => host.StartAsync());

        Assert.StartsWith("Plexus:RequestPlane:Codec is 'zstd-frames', but no codec of that name is loaded (available: good-codec, twopart)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tcp_node_frames_its_calls_with_the_codec_loaded_from_the_twopart_folder()
    {
        using IHost host = BuildNode(HostPlugins.Folder("tcp"), HostPlugins.Folder("twopart"), "--Plexus:Codecs:TwoPart:Checksum=true");
        await host.StartAsync();
        try
        {
            IFrameCodec codec = host.Services.GetRequiredService<IFrameCodecs>().Default;
            Assert.Equal("twopart", codec.Name);
            Assert.Equal("Plexus.Codec.TwoPart", codec.GetType().Assembly.GetName().Name);
            Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(codec.GetType().Assembly));

            var client = host.Services.GetRequiredService<IPlexusClient>();
            byte[] reply = await client.CallUnaryAsync(Echo, Encoding.UTF8.GetBytes("framed by a plugin"), new CallOptions(Timeout: Timeout));

            Assert.Equal("framed by a plugin", Encoding.UTF8.GetString(reply));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// A node through the library's public API (so the host's own services play no part), serving over TCP with
    /// in-process discovery, loading only the given plugin folders; arguments starting with <c>--</c> are settings.
    /// </summary>
    private static IHost BuildNode(params string[] foldersAndSettings)
    {
        string[] folders = foldersAndSettings.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var settings = new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Transport"] = "tcp",
            ["Plexus:Transports:Tcp:Bind"] = "127.0.0.1:0",
            ["Plexus:Discovery:Provider"] = "memory",
        };
        for (int i = 0; i < folders.Length; i++)
        {
            settings[$"Plexus:Plugins:Paths:{i}"] = folders[i];
        }

        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration.AddCommandLine(foldersAndSettings.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray());
        builder.AddPlexus();
        builder.Services.MapPlexusEndpoint(Echo.ToString(), static async (request, writer) =>
        {
            writer.WriteMessage(request.Payload.ToArray());
            await writer.FlushAsync(request.RequestAborted);
        });
        return builder.Build();
    }
}
