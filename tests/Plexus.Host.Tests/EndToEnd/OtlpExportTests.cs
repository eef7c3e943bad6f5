using System.Collections.Concurrent;
using System.Net;
using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// <c>Plexus:Telemetry:Otlp:Endpoint</c> against an OTLP/HTTP receiver of the test's own, which decodes every export:
/// the request plane's spans and metrics arrive, named, with the node's resource attributes; <c>/metrics</c> stays.
/// </summary>
public sealed class OtlpExportTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly HttpListener _receiver = new();
    private readonly ConcurrentQueue<(string Path, string ContentType, List<string> Strings)> _exports = new();
    private readonly Task _receiving;
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-otlp-").FullName;

    public OtlpExportTests()
    {
        Port = FreePort();
        _receiver.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _receiver.Start();
        _receiving = Task.Run(ReceiveAsync);
    }

    private int Port { get; }

    [Fact(Timeout = 120_000)]
    public async Task Spans_and_metrics_of_the_request_plane_reach_an_otlp_receiver_and_metrics_stays()
    {
        string[] settings =
        [
            "--Plexus:Discovery:Provider=file",
            $"--Plexus:Discovery:File:Directory={_directory}",
            "--Plexus:Status:Url=http://127.0.0.1:0",
            "--Plexus:Demo:TokenDelay=00:00:00",
        ];
        await using var node = await NodeProcess.StartAsync(Timeout, [.. settings, $"--Plexus:Telemetry:Otlp:Endpoint=http://127.0.0.1:{Port}", "--Plexus:Telemetry:Otlp:MetricsInterval=500ms", "--Plexus:NodeId=otlp-node"]);
        for (var i = 0; i < 3; i++)
        {
            var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", "traced", .. settings]);
            Assert.True(call.ExitCode == 0, call.StandardError);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !(Has("/v1/traces", "plexus.server.handle") && Has("/v1/metrics", "plexus.requests")))
        {
            await Task.Delay(200);
        }

        Assert.True(Has("/v1/traces", "plexus.server.handle"), Seen());
        Assert.True(Has("/v1/traces", "demo/echo/echo"), Seen());
        Assert.True(Has("/v1/metrics", "plexus.requests"), Seen());
        Assert.True(Has("/v1/metrics", "Plexus.RequestPlane"), Seen());
        Assert.True(Has("/v1/traces", "service.name") && Has("/v1/traces", "plexus") && Has("/v1/traces", "otlp-node"), Seen());
        Assert.All(_exports, e => Assert.Equal("application/x-protobuf", e.ContentType));

        using var http = new HttpClient { Timeout = Timeout };
        var prometheus = await http.GetStringAsync(new Uri(node.StatusUrl, "/metrics"));
        Assert.Contains("plexus_requests_total", prometheus, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_endpoint_stops_the_start_naming_the_key()
    {
        var result = await HostProcess.RunAsync(Timeout, ["run", "--Plexus:Telemetry:Otlp:Endpoint=not a url", "--Plexus:Status:Enabled=false"]);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Plexus:Telemetry:Otlp:Endpoint is 'not a url'", result.StandardError, StringComparison.Ordinal);
    }

    private bool Has(string path, string text)
    {
        foreach (var export in _exports)
        {
            if (export.Path == path && export.Strings.Contains(text))
            {
                return true;
            }
        }

        return false;
    }

    private string Seen() => string.Join("\n", _exports.Select(e => $"{e.Path}: {string.Join(" | ", e.Strings.Distinct().Take(60))}"));

    private async Task ReceiveAsync()
    {
        while (_receiver.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _receiver.GetContextAsync();
            }
            catch (Exception) when (!_receiver.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            try
            {
                _exports.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? string.Empty, ProtobufText.Strings(body.ToArray())));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (InvalidDataException)
            {
                context.Response.StatusCode = 400;
            }

            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            _receiver.Stop();
            _receiver.Close();
        }
        catch (HttpListenerException)
        {
            // The managed listener looks its port up again to let it go, and fails if another test's socket took the
            // port meanwhile; the receiver is closed either way, and the test's outcome was decided before this.
        }

        _receiving.Wait(TimeSpan.FromSeconds(5));
        Directory.Delete(_directory, recursive: true);
    }
}
