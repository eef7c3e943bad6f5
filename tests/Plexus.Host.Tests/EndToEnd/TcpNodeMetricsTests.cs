using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>A node serving over TCP exposes the request plane's and the transport's meters on /metrics.</summary>
public sealed class TcpNodeMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Requests_and_connections_from_other_processes_show_on_the_nodes_metrics()
    {
        var discovery = Directory.CreateTempSubdirectory("plexus-metrics-");
        try
        {
            string[] settings = ["--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={discovery.FullName}", "--Plexus:Transports:Tcp:Bind=127.0.0.1:0"];
            await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", .. settings]);
            var status = node.StatusUrl;
            for (var i = 0; i < 2; i++)
            {
                var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "0123456789", .. settings]);
                Assert.True(call.ExitCode == 0, call.StandardError);
            }

            using var http = new HttpClient();
            var families = PrometheusTextParser.Parse(await http.GetStringAsync(new Uri(status, "/metrics")));

            var requests = Assert.Single(families["plexus_requests_total"].Samples, s => s.Labels["endpoint"] == "demo/echo/echo");
            Assert.Equal(("server", "tcp", 2.0), (requests.Labels["side"], requests.Labels["transport"], requests.Value));
            Assert.Equal(20, Assert.Single(families["plexus_payload_received_bytes_total"].Samples, s => s.Labels["endpoint"] == "demo/echo/echo").Value);
            var opened = Assert.Single(families["plexus_transport_connections_opened_total"].Samples, s => s.Labels["side"] == "server");
            Assert.Equal(2, opened.Value); // one connection per calling process
            Assert.Equal("gauge", families["plexus_transport_connections"].Type);
        }
        finally
        {
            discovery.Delete(recursive: true);
        }
    }
}
