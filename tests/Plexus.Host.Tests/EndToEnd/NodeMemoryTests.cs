using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Hosting;
using Plexus.Hosting.RequestPlane.Client;
using Plexus.Host.Tests.Support;
using Xunit.Abstractions;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// A node that echoed many large payloads over TCP gives the memory back to its pools and the collector: its resident
/// size after the burst stays within a few payloads of where it started, however many payloads went through.
/// </summary>
public sealed class NodeMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const int PayloadBytes = 64 * 1024 * 1024;
    private const int Echoes = 10;

    // Request and response of the one echo in flight, the pools' 1 MiB chunks, and room for the collector's timing
    // (docs/operations.md, Memory). Before large buffers were bounded, ten echoes left the node about 700 MiB larger.
    private const long AllowedGrowthBytes = 4L * PayloadBytes;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-memory-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Large_echoes_leave_the_nodes_resident_memory_bounded()
    {
        string[] discovery = ["--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={_directory}", "--Plexus:Discovery:File:PollInterval=00:00:00.050"];
        string[] limits = ["--Plexus:Transports:Tcp:MaxPayloadBytes=134217728"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Status:Url=http://127.0.0.1:0", .. discovery, .. limits]);

        var plugins = Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins");
        using var client = PlexusHostFactory.Build([$"--Plexus:Plugins:Paths:0={plugins}", "--Plexus:Status:Enabled=false", "--Plexus:Server:Enabled=false", "--Logging:LogLevel:Default=Warning", .. discovery, .. limits], quiet: true);
        await client.StartAsync();
        var router = client.Services.GetRequiredService<PlexusClient>();

        var payload = new byte[PayloadBytes];
        Random.Shared.NextBytes(payload);

        // The first echo warms the node up (JIT, pools, connection) before the baseline is taken.
        await EchoAsync(router, payload);
        var before = ResidentBytes(node.Id);
        for (var i = 1; i < Echoes; i++)
        {
            await EchoAsync(router, payload);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        var after = ResidentBytes(node.Id);
        await client.StopAsync();
        output.WriteLine($"resident: {before >> 20} MiB after the first echo, {after >> 20} MiB after {Echoes}");

        Assert.True(
            after - before <= AllowedGrowthBytes,
            $"After {Echoes} echoes of {PayloadBytes >> 20} MiB the node grew from {before >> 20} MiB to {after >> 20} MiB resident; at most {AllowedGrowthBytes >> 20} MiB of growth is allowed.");
    }

    private static async Task EchoAsync(PlexusClient router, byte[] payload)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        await using var stream = await router.CallAsync(EndpointAddress.Parse("demo/echo/echo"), new ReadOnlySequence<byte>(payload), new CallOptions(Timeout: Timeout), cancel.Token);
        long received = 0;
        while (await stream.MoveNextAsync(cancel.Token))
        {
            received += stream.Current.Length;
        }

        Assert.Equal(payload.Length, received);
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                // "VmRSS:	  123456 kB"
                var kilobytes = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
                return kilobytes * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line.");
    }
}
