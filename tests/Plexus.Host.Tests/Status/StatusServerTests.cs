using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.Hosting;
using Plexus.Hosting.RequestPlane.Client;
using Plexus.Host.Status;
using Plexus.Host.Tests.Support;
using Plexus.Host.Tests.Telemetry;

namespace Plexus.Host.Tests.Status;

/// <summary>The status server of a real node (memory transport loaded from the host's plugins folder), over HTTP.</summary>
public sealed class StatusServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new() { Timeout = Bound };
    private IHost _host = null!;
    private Uri _status = null!;

    public async Task InitializeAsync()
    {
        var plugins = Path.Combine(Path.GetDirectoryName(HostProcess.HostDll)!, "plugins");
        _host = PlexusHostFactory.Build(
            [
                $"--Plexus:Plugins:Paths:0={plugins}",
                "--Plexus:Status:Url=http://127.0.0.1:0",
                "--Plexus:RequestPlane:Transport=memory",
                "--Plexus:Discovery:Provider=memory",
                "--Plexus:Demo:TokenDelay=00:00:00.200",
                "--Plexus:Server:DrainTimeout=00:00:20",
                "--Logging:LogLevel:Default=Warning",
            ],
            quiet: false);
        await _host.StartAsync();
        _status = _host.Services.GetRequiredService<StatusServer>().Address!;
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _http.Dispose();
    }

    private async Task<string[]> CallAsync(string endpoint, string data, string? maxTokens = null)
    {
        var router = _host.Services.GetRequiredService<PlexusClient>();
        var headers = maxTokens is null ? null : new Dictionary<string, string> { ["max-tokens"] = maxTokens };
        var messages = new List<string>();
        await foreach (var m in (await router.CallAsync(EndpointAddress.Parse(endpoint), new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(data)), new CallOptions(headers), CancellationToken.None)).ReadAllAsync())
        {
            messages.Add(System.Text.Encoding.UTF8.GetString(m));
        }

        return [.. messages];
    }

    [Fact]
    public async Task Live_and_health_report_the_node_and_its_endpoints()
    {
        var live = await _http.GetAsync(new Uri(_status, "/live"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        var health = await _http.GetFromJsonAsync<JsonElement>(new Uri(_status, "/health"));
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.False(health.GetProperty("draining").GetBoolean());
        Assert.Equal("memory", health.GetProperty("transport").GetProperty("name").GetString());
        Assert.Equal("memory", health.GetProperty("discovery").GetProperty("name").GetString());
        var endpoints = health.GetProperty("endpoints").EnumerateArray().Select(e => e.GetProperty("endpoint").GetString()!).Order().ToArray();
        Assert.Equal(["demo/echo/echo", "demo/echo/generate", "demo/echo/relay"], endpoints);
    }

    [Fact]
    public async Task Metrics_count_requests_errors_and_bytes_on_both_sides_by_endpoint()
    {
        await CallAsync("demo/echo/echo", "12345");
        await CallAsync("demo/echo/echo", "678");
        await Assert.ThrowsAsync<PlexusException>(() => CallAsync("demo/echo/generate", "x", maxTokens: "lots"));

        var response = await _http.GetAsync(new Uri(_status, "/metrics"));
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var families = PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());

        double Value(string family, string endpoint, string side, string? code = null) => families[family].Samples
            .Where(s => s.Labels["endpoint"] == endpoint && s.Labels["side"] == side && (code is null || s.Labels["code"] == code))
            .Sum(s => s.Value);

        Assert.Equal(2, Value("plexus_requests_total", "demo/echo/echo", "client"));
        Assert.Equal(2, Value("plexus_requests_total", "demo/echo/echo", "server"));
        Assert.Equal(8, Value("plexus_payload_sent_bytes_total", "demo/echo/echo", "client"));
        Assert.Equal(8, Value("plexus_payload_sent_bytes_total", "demo/echo/echo", "server"));
        Assert.Equal(1, Value("plexus_request_errors_total", "demo/echo/generate", "client", "handler_error"));
        Assert.Equal(1, Value("plexus_request_errors_total", "demo/echo/generate", "server", "handler_error"));
        Assert.Equal(0, Value("plexus_requests_in_flight", "demo/echo/echo", "client"));
        Assert.Equal("histogram", families["plexus_request_duration_seconds"].Type);
        Assert.Equal("histogram", families["plexus_request_time_to_first_response_seconds"].Type);
        Assert.All(families["plexus_requests_total"].Samples, s => Assert.Equal("memory", s.Labels["transport"]));
        var plugin = Assert.Single(families["plexus_plugins"].Samples, s => s.Labels["plugin"] == "memory");
        Assert.Equal("loaded", plugin.Labels["status"]);
    }

    [Fact]
    public async Task Plugins_and_instances_are_served_as_json()
    {
        var plugins = await _http.GetFromJsonAsync<JsonElement>(new Uri(_status, "/api/plugins"));
        var memory = plugins.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "memory");
        Assert.Equal("loaded", memory.GetProperty("status").GetString());

        var instances = await _http.GetFromJsonAsync<JsonElement>(new Uri(_status, "/api/instances"));
        Assert.Equal(3, instances.GetArrayLength());
        Assert.All(instances.EnumerateArray(), i => Assert.Equal("memory", i.GetProperty("transport").GetString()));

        var page = await _http.GetStringAsync(_status);
        Assert.Contains("<title>Plexus node</title>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal); // no external assets
    }

    [Fact]
    public async Task Health_is_503_while_the_node_drains_and_in_flight_work_still_finishes()
    {
        var call = CallAsync("demo/echo/generate", "slow", maxTokens: "10");
        await Task.Delay(300);

        var stopping = _host.StopAsync();
        var deadline = DateTime.UtcNow + Bound;
        HttpResponseMessage health;
        do
        {
            health = await _http.GetAsync(new Uri(_status, "/health"));
            Assert.True(DateTime.UtcNow < deadline, "health never turned 503");
        }
        while (health.StatusCode != HttpStatusCode.ServiceUnavailable);

        var body = await health.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("draining").GetBoolean());
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());

        var tokens = await call.WaitAsync(Bound);
        Assert.Equal(11, tokens.Length);
        await stopping.WaitAsync(Bound);
    }
}
