using System.Text.Json;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>A call from one process to a node in another is one trace: the server's span is the child of the client's.</summary>
public sealed class TraceAcrossProcessesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static List<JsonElement> Spans(string output)
    {
        var spans = new List<JsonElement>();
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("{\"span\":", StringComparison.Ordinal))
            {
                spans.Add(JsonDocument.Parse(trimmed).RootElement.Clone());
            }
        }

        return spans;
    }

    [Fact]
    public async Task Traceparent_travels_over_tcp_and_links_the_server_span_to_the_client_span()
    {
        var discovery = Directory.CreateTempSubdirectory("plexus-trace-");
        try
        {
            string[] settings =
            [
                "--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={discovery.FullName}",
                "--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Tracing:Console=true", "--Plexus:Status:Enabled=false",
            ];
            await using var node = await NodeProcess.StartAsync(Timeout, settings);

            var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "traced", .. settings]);
            Assert.True(call.ExitCode == 0, call.StandardError);

            var client = Assert.Single(Spans(call.StandardError), s => s.GetProperty("span").GetString() == "plexus.client.send");
            var traceId = client.GetProperty("traceId").GetString();
            var deadline = DateTime.UtcNow + Timeout;
            JsonElement? server = null;
            while (server is null && DateTime.UtcNow < deadline)
            {
                server = Spans(node.Output).Cast<JsonElement?>().FirstOrDefault(s => s!.Value.GetProperty("traceId").GetString() == traceId);
                if (server is null)
                {
                    await Task.Delay(50);
                }
            }

            Assert.True(server is not null, $"the node logged no span of trace {traceId}:\n{node.Output}");
            Assert.Equal("plexus.server.handle", server.Value.GetProperty("span").GetString());
            Assert.Equal("server", server.Value.GetProperty("kind").GetString());
            Assert.Equal(client.GetProperty("spanId").GetString(), server.Value.GetProperty("parentSpanId").GetString());
            Assert.Equal("demo/echo/echo", server.Value.GetProperty("plexus.endpoint").GetString());
            Assert.Equal(client.GetProperty("plexus.request_id").GetString(), server.Value.GetProperty("plexus.request_id").GetString());
        }
        finally
        {
            discovery.Delete(recursive: true);
        }
    }
}
