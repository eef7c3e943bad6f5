using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Tests.Support;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// A Plexus client inside the test process, in the root namespace: the library's own <see cref="IPlexusClient"/>
/// (discovery watching, routing, retries before the first byte, typed errors) on the host's tcp, twopart and etcd plugin
/// folders, finding the lab's nodes through the lab's etcd cluster. It serves nothing and registers nothing.
/// </summary>
public sealed class LabClient : IAsyncDisposable
{
    private readonly IHost _host;

    private LabClient(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IPlexusClient>();
    }

    public IPlexusClient Client { get; }

    /// <summary>Starts the client with the lab's common settings and <paramref name="settings"/> over them.</summary>
    public static async Task<LabClient> StartAsync(IPAddress address, IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var all = new Dictionary<string, string?>
        {
            ["Plexus:RequestPlane:Transport"] = "tcp",
            ["Plexus:Transports:Tcp:Bind"] = $"{address}:0",
            ["Plexus:Plugins:Paths:0"] = PluginFolder("tcp"),
            ["Plexus:Plugins:Paths:1"] = PluginFolder("twopart"),
            ["Plexus:Plugins:Paths:2"] = PluginFolder("etcd"),
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.AddPlexus();
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new LabClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(giveUp.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>A stock plugin folder the host's build put beside it.</summary>
    private static string PluginFolder(string name)
    {
        var folder = Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins", name);
        return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"The host's plugin folder {folder} is missing; build Plugins.sln.");
    }
}
