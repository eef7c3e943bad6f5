using System.Security.Cryptography;
using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;
using Plexus.Transport.Nats.Tests;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// The bulk path between processes on the real UCX (the rdma plugin beside the host): a request payload and its echo
/// over the threshold move out of band over TCP and over NATS; peers that cannot reach each other over UCX, or a caller
/// whose UCX is unavailable, still get every byte inline, and the node's metrics say which way the bytes went.
/// </summary>
public sealed class BulkPathTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Over_tcp_a_large_request_and_its_echo_move_by_bulk_and_a_small_one_inline()
    {
        using var discovery = new Scratch("plexus-bulk-tcp-");
        string[] settings = [.. Discovery(discovery), "--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Bulk:Transport=ucx"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", .. settings]);

        await EchoAsync(discovery, 4 << 20, settings);
        var metrics = await ScrapeAsync(node);
        Assert.Equal(1, Value(metrics, "plexus_bulk_transfers_total", ("direction", "request"), ("result", "ok")));
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "offered")));
        Assert.Equal(4 << 20, Value(metrics, "plexus_bulk_bytes_total", ("path", "bulk")));

        // The caller told the node it had pulled the echo before it exited, so the node holds nothing for it.
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "released")));

        // The status API (and page) names the bulk transport and what UCX runs on.
        using (var http = new HttpClient())
        {
            using var nodeReport = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(node.StatusUrl, "/api/node")));
            Assert.StartsWith("ucx (UCX 1.", nodeReport.RootElement.GetProperty("bulk").GetString(), StringComparison.Ordinal);
        }

        // Below the threshold nothing moves out of band.
        await EchoAsync(discovery, 64 << 10, settings);
        metrics = await ScrapeAsync(node);
        Assert.Equal(1, Value(metrics, "plexus_bulk_transfers_total", ("direction", "request"), ("result", "ok")));
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "offered")));
    }

    [Fact]
    public async Task Over_tcp_a_64_MiB_request_moves_by_bulk_and_its_echo_arrives_whole()
    {
        using var discovery = new Scratch("plexus-bulk-64-");
        string[] settings = [.. Discovery(discovery), "--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Bulk:Transport=ucx"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", .. settings]);

        await EchoAsync(discovery, 64 << 20, settings);
        var metrics = await ScrapeAsync(node);
        Assert.Equal(64 << 20, Value(metrics, "plexus_bulk_bytes_total", ("path", "bulk")));
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "offered")));
    }

    [Fact]
    public async Task Over_nats_a_large_request_and_its_echo_move_by_bulk()
    {
        await using var nats = await NatsServerProcess.StartAsync();
        using var discovery = new Scratch("plexus-bulk-nats-");
        string[] settings = [.. Discovery(discovery), "--Plexus:RequestPlane:Transport=nats", $"--Plexus:Transports:Nats:Url={nats.Url}", "--Plexus:Bulk:Transport=ucx"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", .. settings]);

        await EchoAsync(discovery, 4 << 20, settings);
        var metrics = await ScrapeAsync(node);
        Assert.Equal(1, Value(metrics, "plexus_bulk_transfers_total", ("direction", "request"), ("result", "ok")));
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "offered")));
    }

    [Fact]
    public async Task Peers_without_a_common_ucx_transport_get_every_byte_inline_and_the_failed_transfers_are_counted()
    {
        using var discovery = new Scratch("plexus-bulk-apart-");
        string[] common = [.. Discovery(discovery), "--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Bulk:Transport=ucx"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", "--Plexus:Bulk:Ucx:Settings:TLS=posix,cma,self", .. common]);

        // Shared memory and cma on one side, TCP alone on the other: UCX finds no way between them.
        await EchoAsync(discovery, 4 << 20, [.. common, "--Plexus:Bulk:Ucx:Settings:TLS=tcp,self"]);
        var metrics = await ScrapeAsync(node);
        Assert.Equal(1, Value(metrics, "plexus_bulk_transfers_total", ("direction", "request"), ("result", "failed")));
        Assert.Equal(0, Value(metrics, "plexus_bulk_transfers_total", ("direction", "request"), ("result", "ok")));
        Assert.Equal(1, Value(metrics, "plexus_bulk_offers_total", ("state", "fetched")));

        // The request sent again inline (4 MiB), and the echo fetched inline: all of it but the first part that went inline
        // before the message was known to be large (at most the threshold and one 64 KiB step, as the handler writes it).
        Assert.InRange(Value(metrics, "plexus_bulk_bytes_total", ("path", "inline")), (4 << 20) + (3 << 20) - (64 << 10), 8 << 20);
    }

    [Fact]
    public async Task A_caller_whose_ucx_is_made_unavailable_sends_inline_and_the_node_counts_it()
    {
        using var discovery = new Scratch("plexus-bulk-off-");
        string[] common = [.. Discovery(discovery), "--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Bulk:Transport=ucx"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", .. common]);

        var call = await EchoAsync(discovery, 4 << 20, [.. common, "--Plexus:Bulk:Ucx:Settings:TLS=no-such-transport"]);
        Assert.Contains("[1501]", call.StandardError, StringComparison.Ordinal);
        var metrics = await ScrapeAsync(node);
        Assert.Equal(1, Value(metrics, "plexus_bulk_fallbacks_total", ("reason", "peer")));
        Assert.Equal(4 << 20, Value(metrics, "plexus_bulk_bytes_total", ("path", "inline")));
        Assert.Equal(0, Value(metrics, "plexus_bulk_offers_total", ("state", "offered")));
    }

    private static string[] Discovery(Scratch discovery) => ["--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={discovery.Path}"];

    /// <summary>Calls demo/echo/echo with <paramref name="bytes"/> of random text and checks every byte came back.</summary>
    private static async Task<HostProcess.Result> EchoAsync(Scratch scratch, int bytes, string[] settings)
    {
        var text = Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes / 4 * 3));
        var file = System.IO.Path.Combine(scratch.Path, $"payload-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, text);
        var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "@" + file, "--timeout", "60s", .. settings]);
        Assert.True(call.ExitCode == 0, call.StandardError);
        Assert.Equal(text.Length + 1, call.StandardOutput.Length);
        Assert.True(string.Equals(text + "\n", call.StandardOutput, StringComparison.Ordinal), "The echo differs from what was sent.");
        return call;
    }

    private static async Task<Dictionary<string, PrometheusTextParser.Family>> ScrapeAsync(NodeProcess node)
    {
        using var http = new HttpClient();
        return PrometheusTextParser.Parse(await http.GetStringAsync(new Uri(node.StatusUrl, "/metrics")));
    }

    private static double Value(Dictionary<string, PrometheusTextParser.Family> metrics, string name, params (string Key, string Value)[] labels)
    {
        if (!metrics.TryGetValue(name, out var family))
        {
            return 0;
        }

        double sum = 0;
        foreach (var sample in family.Samples)
        {
            if (Array.TrueForAll(labels, l => sample.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
            {
                sum += sample.Value;
            }
        }

        return sum;
    }

    /// <summary>A temporary directory, deleted at the end.</summary>
    private sealed class Scratch(string prefix) : IDisposable
    {
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory(prefix);

        public string Path => _directory.FullName;

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
