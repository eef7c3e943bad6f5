using System.Diagnostics;
using System.Text.RegularExpressions;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.Status;

/// <summary>
/// Opens a real node's status page in headless Chromium (Debian's <c>chromium</c>, installed by test.sh) and asserts
/// on what the page's script rendered, not on the HTML the server sent.
/// </summary>
public sealed class StatusPageBrowserTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_status_page_renders_the_node_its_plugins_endpoints_and_instances()
    {
        var discovery = Directory.CreateTempSubdirectory("plexus-browser-");
        string[] settings = ["--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={discovery.FullName}", "--Plexus:Transports:Tcp:Bind=127.0.0.1:0"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Status:Url=http://127.0.0.1:0", "--Plexus:NodeId=browser-node", "--Plexus:Demo:TokenDelay=00:00:00", .. settings]);
        var url = node.StatusUrl.ToString();

        // Traffic from other processes over TCP, so that the page has request rates to show.
        for (var i = 0; i < 3; i++)
        {
            var call = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/generate", "--data", "rates", .. settings]);
            Assert.True(call.ExitCode == 0, call.StandardError);
        }

        var dom = await ChromiumAsync("--dump-dom", url);

        Assert.Contains("data-loaded=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("browser-node", dom, StringComparison.Ordinal);
        Assert.Matches(@"class=""badge healthy"" id=""health"">healthy<", dom);
        Assert.Matches(@"<td>tcp</td><td class=""mono"">1\.0\.0</td><td>transport</td>", dom);
        Assert.Matches(@"<td>memory</td><td class=""mono"">1\.0\.0</td><td>transport</td>", dom);
        Assert.Matches(@"<tr><td><code>demo/echo/generate</code></td><td>server</td><td class=""num"">3</td><td class=""num"">[0-9.]+</td><td class=""num"">0\.0</td><td class=""num"">0</td></tr>", dom);
        // Live charts of the endpoint that had traffic: its rate, and p50/p99 from the duration histogram, drawn as SVG.
        var card = Regex.Match(dom, @"<div class=""chart-card"" data-series=""demo/echo/generate\|server"">.*?</svg></div>", RegexOptions.Singleline);
        Assert.True(card.Success, "no chart of demo/echo/generate");
        Assert.Matches(@"<svg class=""chart rate""[^>]*>(<polyline class=""rate"" points=""[0-9., -]+""|<circle class=""rate"")", card.Value);
        Assert.Matches(@"<span class=""p50"">p50 [0-9.]+ ms</span><span class=""p99"">p99 [0-9.]+ ms</span>", card.Value);
        Assert.Matches(@"<svg class=""chart latency""[^>]*>.*class=""p99""", card.Value);

        // Once among the endpoints served here and once among the known instances; generate also has a rate row and a chart.
        foreach (var (endpoint, rows) in new[] { ("demo/echo/echo", 2), ("demo/echo/generate", 4), ("demo/echo/relay", 2) })
        {
            Assert.Equal(rows, Regex.Matches(dom, $"<code>{Regex.Escape(endpoint)}</code>").Count);
        }

        var screenshot = Path.Combine(Path.GetTempPath(), $"plexus-status-{Environment.ProcessId}.png");
        await ChromiumAsync($"--screenshot={screenshot}", url, "--window-size=1280,900");
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 10_000, "the screenshot is not a rendered page");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        if (Environment.GetEnvironmentVariable("PLEXUS_UPDATE_SCREENSHOT") == "1")
        {
            File.Copy(screenshot, Path.Combine(HostProcess.RepositoryRoot, "docs", "images", "status-page.png"), overwrite: true);
        }

        File.Delete(screenshot);
        discovery.Delete(recursive: true);
    }

    private static async Task<string> ChromiumAsync(string action, string url, params string[] more)
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), "Chromium is not installed at /usr/bin/chromium: run ./test.sh, which installs Debian's chromium package.");
        var profile = Directory.CreateTempSubdirectory("plexus-chromium-");
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}", "--virtual-time-budget=5000", action,
        })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in more)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add(url);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(Timeout);
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
            return await stdout;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
