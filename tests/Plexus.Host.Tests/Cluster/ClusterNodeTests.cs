using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.Cluster;

/// <summary>
/// Real nodes forming a cluster over loopback: a seed, members that join with the token, the member table as
/// discovery provider <c>seed</c>, refusals of wrong tokens and impostor seeds, renewal, a seed restart, a late joiner.
/// </summary>
public sealed partial class ClusterNodeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("plexus-cluster-");

    private static string[] Common(params string[] more) =>
    [
        "--Plexus:RequestPlane:Transports=tcp,quic",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Transports:Quic:Bind=127.0.0.1:0",
        "--Plexus:Transports:Tcp:Tls:Mode=cluster",
        "--Plexus:Transports:Quic:Tls:Mode=cluster",
        "--Plexus:Discovery:Provider=seed",
        "--Plexus:Discovery:LeaseTtl=3s",
        "--Plexus:Cluster:MemberLease=3s",
        "--Plexus:Demo:TokenDelay=00:00:00",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        .. more,
    ];

    private string[] SeedSettings(string port = "0", params string[] more) =>
        Common(["--Plexus:Cluster:Seed=true", $"--Plexus:Cluster:Listen=127.0.0.1:{port}", $"--Plexus:Cluster:StatePath={_state.FullName}", "--Plexus:Demo:Namespace=seed", "--Plexus:NodeId=seed-node", .. more]);

    private static string[] MemberSettings(string join, string token, string name, params string[] more) =>
        Common([$"--Plexus:Cluster:Join={join}", $"--Plexus:Cluster:Token={token}", $"--Plexus:Demo:Namespace={name}", $"--Plexus:NodeId={name}-node", .. more]);

    private static string JoinAddress(NodeProcess seed) => SeedListening().Match(seed.Output) is { Success: true } m
        ? m.Groups[1].Value
        : throw new InvalidOperationException($"The seed logged no join address:\n{seed.Output}");

    private string Token() => File.ReadAllText(Path.Combine(_state.FullName, "token")).Trim();

    [Fact(Timeout = 240_000)]
    public async Task Three_nodes_form_a_cluster_call_each_other_through_seed_discovery_and_a_late_joiner_is_served()
    {
        await using var seed = await NodeProcess.StartAsync(Timeout, SeedSettings());
        var join = JoinAddress(seed);
        var token = Token();
        Assert.Matches($"\\[1600\\] Cluster token generated .*Plexus__Cluster__Join={Regex.Escape(join)} Plexus__Cluster__Token={token}", seed.Output);
        Assert.Equal(64, token.Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state.FullName, "ca.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state.FullName, "token")));
        }

        await using var alpha = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "alpha"));
        await using var beta = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "beta"));
        Assert.Contains("[1607] Joined cluster", alpha.Output, StringComparison.Ordinal);

        // alpha serves the call and calls beta; beta's answer comes back; every node found the others through the seed.
        var relayed = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "across", "--header", "relay-to=beta/echo/echo", .. MemberSettings(join, token, "caller")]);
        Assert.True(relayed.ExitCode == 0, relayed.StandardError);
        Assert.Equal("across\n", relayed.StandardOutput);
        var toSeed = await HostProcess.RunAsync(Timeout, ["call", "beta/echo/relay", "--data", "home", "--header", "relay-to=seed/echo/echo", .. MemberSettings(join, token, "caller")]);
        Assert.True(toSeed.ExitCode == 0, toSeed.StandardError);

        // Both transports run on cluster mutual TLS: a caller preferring QUIC reaches alpha over QUIC, alpha reaches
        // beta over TCP, its own first choice.
        var overQuic = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "q", "--header", "relay-to=beta/echo/echo", .. MemberSettings(join, token, "caller", "--Plexus:RequestPlane:Transports=quic,tcp")]);
        Assert.True(overQuic.ExitCode == 0, overQuic.StandardError);
        Assert.Equal("q\n", overQuic.StandardOutput);
        Assert.True(await ServedAsync(alpha, "alpha/echo/relay", "quic") >= 1);
        Assert.True(await ServedAsync(beta, "beta/echo/echo", "tcp") >= 2);

        // The token line and the member table, as an operator reads them.
        var line = await HostProcess.RunAsync(Timeout, ["cluster", "token", .. SeedSettings()]);
        Assert.True(line.ExitCode == 0, line.StandardError);
        Assert.Equal($"Plexus__Cluster__Join=127.0.0.1:0 Plexus__Cluster__Token={token} dotnet run --project host\n", line.StandardOutput);
        var members = await MembersAsync(join, token);
        Assert.Contains("seed-node", members);
        Assert.Contains("alpha-node", members);
        Assert.Contains("beta-node", members);

        using var http = new HttpClient { Timeout = Timeout };
        var onSeed = await http.GetFromJsonAsync<JsonElement>(new Uri(seed.StatusUrl, "/api/cluster"));
        Assert.Equal("seed", onSeed.GetProperty("role").GetString());
        Assert.Equal(join, onSeed.GetProperty("joinAddress").GetString());
        Assert.True(onSeed.GetProperty("authorityExpires").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(29));
        var onAlpha = await http.GetFromJsonAsync<JsonElement>(new Uri(alpha.StatusUrl, "/api/cluster"));
        Assert.Equal("member", onAlpha.GetProperty("role").GetString());
        Assert.Equal(onSeed.GetProperty("cluster").GetString(), onAlpha.GetProperty("cluster").GetString());
        Assert.True(onAlpha.GetProperty("certificateExpires").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));

        // A node that joins after the cluster formed is served like the others.
        await using var late = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "late"));
        var toLate = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "late", "--header", "relay-to=late/echo/echo", .. MemberSettings(join, token, "caller")]);
        Assert.True(toLate.ExitCode == 0, toLate.StandardError);
        Assert.Equal("late\n", toLate.StandardOutput);

        // A member that dies leaves the member table after its lease, and its instances leave discovery.
        beta.Kill();
        await WaitUntilAsync(async () => !(await MembersAsync(join, token)).Contains("beta-node"), TimeSpan.FromSeconds(20));
        Assert.Contains("[1606] Member beta-node left the member table", seed.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_wrong_token_is_refused_and_both_sides_say_so()
    {
        await using var seed = await NodeProcess.StartAsync(Timeout, SeedSettings());
        var join = JoinAddress(seed);
        var wrong = new string('7', 64);

        var refused = await HostProcess.RunAsync(Timeout, ["run", .. MemberSettings(join, wrong, "intruder")]);

        Assert.Equal(4, refused.ExitCode);
        Assert.Contains($"The seed at {join} does not know this node's cluster token", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("check Plexus:Cluster:Token on both sides", refused.StandardError, StringComparison.Ordinal);
        await WaitUntilAsync(() => Task.FromResult(seed.Output.Contains("[1604] A node (intruder-node)", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("intruder-node", await MembersAsync(join, Token()), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_impostor_seed_with_another_token_is_refused_by_a_joining_node_before_it_sends_anything()
    {
        using var otherState = new TempDirectory();
        await using var impostor = await NodeProcess.StartAsync(Timeout, Common("--Plexus:Cluster:Seed=true", "--Plexus:Cluster:Listen=127.0.0.1:0", $"--Plexus:Cluster:StatePath={otherState.Path}", "--Plexus:NodeId=impostor"));
        var realToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        var refused = await HostProcess.RunAsync(Timeout, ["run", .. MemberSettings(JoinAddress(impostor), realToken, "victim")]);

        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("does not know this node's cluster token, so it was not trusted and nothing was sent to it", refused.StandardError, StringComparison.Ordinal);
        await WaitUntilAsync(() => Task.FromResult(impostor.Output.Contains("[1604]", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("[1602]", impostor.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task Certificates_are_renewed_under_traffic_without_losing_a_request()
    {
        await using var seed = await NodeProcess.StartAsync(Timeout, SeedSettings("0", "--Plexus:Cluster:CertificateLifetime=6s"));
        var join = JoinAddress(seed);
        var token = Token();
        await using var alpha = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "alpha"));
        await using var beta = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "beta"));

        // Calls for longer than a certificate lives, over connections made before and after each renewal: all succeed.
        var started = DateTime.UtcNow;
        var calls = 0;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(10))
        {
            var call = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "r", "--header", "relay-to=beta/echo/echo", .. MemberSettings(join, token, "caller")]);
            Assert.True(call.ExitCode == 0, call.StandardError);
            Assert.Equal("r\n", call.StandardOutput);
            calls++;
        }

        Assert.True(calls >= 1, "no call finished");
        Assert.Contains("[1609] Cluster certificate renewed", alpha.Output, StringComparison.Ordinal);
        Assert.Contains("[1609] Cluster certificate renewed", beta.Output, StringComparison.Ordinal);
        Assert.Contains("[1609] Cluster certificate renewed", seed.Output, StringComparison.Ordinal);
        Assert.Equal(1, Regex.Count(alpha.Output, @"\[1607\] Joined cluster"));
    }

    [Fact(Timeout = 240_000)]
    public async Task A_seed_restarted_on_its_state_keeps_its_cluster_and_members_carry_on_without_joining_again()
    {
        var port = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var seed = await NodeProcess.StartAsync(Timeout, SeedSettings(port));
        var join = JoinAddress(seed);
        var token = Token();
        var clusterId = ClusterId(seed.Output);
        var ca = File.ReadAllText(Path.Combine(_state.FullName, "ca.pem"));
        await using var alpha = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "alpha"));
        await using var beta = await NodeProcess.StartAsync(Timeout, MemberSettings(join, token, "beta"));
        var before = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "before", "--header", "relay-to=beta/echo/echo", .. MemberSettings(join, token, "caller")]);
        Assert.True(before.ExitCode == 0, before.StandardError);

        Assert.Equal(0, await seed.StopAsync(Timeout));
        await seed.DisposeAsync();
        await using var again = await NodeProcess.StartAsync(Timeout, SeedSettings(port));

        // The same CA and token: no new token line, and the members' certificates still chain to it.
        Assert.Equal(clusterId, ClusterId(again.Output));
        Assert.DoesNotContain("[1600]", again.Output, StringComparison.Ordinal);
        Assert.Equal(ca, File.ReadAllText(Path.Combine(_state.FullName, "ca.pem")));
        await WaitUntilAsync(async () =>
        {
            var call = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "after", "--header", "relay-to=beta/echo/echo", "--timeout", "10s", .. MemberSettings(join, token, "caller")]);
            return call.ExitCode == 0 && call.StandardOutput == "after\n";
        }, TimeSpan.FromSeconds(40));
        await WaitUntilAsync(async () => (await MembersAsync(join, token)) is var m && m.Contains("alpha-node") && m.Contains("beta-node"), TimeSpan.FromSeconds(20));
        Assert.Equal(1, Regex.Count(alpha.Output, @"\[1607\] Joined cluster"));
        Assert.Equal(1, Regex.Count(beta.Output, @"\[1607\] Joined cluster"));
    }

    private static async Task<double> ServedAsync(NodeProcess node, string endpoint, string transport)
    {
        using var http = new HttpClient { Timeout = Timeout };
        var families = Plexus.Host.Tests.Telemetry.PrometheusTextParser.Parse(await http.GetStringAsync(new Uri(node.StatusUrl, "/metrics")));
        return families.TryGetValue("plexus_requests_total", out var requests)
            ? requests.Samples.Where(s => s.Labels["endpoint"] == endpoint && s.Labels["side"] == "server" && s.Labels["transport"] == transport).Sum(s => s.Value)
            : 0;
    }

    private static async Task<string> MembersAsync(string join, string token)
    {
        var members = await HostProcess.RunAsync(Timeout, ["cluster", "members", "--json", $"--Plexus:Cluster:Join={join}", $"--Plexus:Cluster:Token={token}"]);
        Assert.True(members.ExitCode == 0, members.StandardError);
        using var doc = JsonDocument.Parse(members.StandardOutput);
        return string.Join(",", doc.RootElement.EnumerateArray().Select(m => m.GetProperty("node").GetString()));
    }

    private static string ClusterId(string output) => Regex.Match(output, @"\[1601\] Cluster ([0-9a-f]+):").Groups[1].Value;

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The condition did not hold within {within}.");
            }

            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"\[1601\] Cluster [0-9a-f]+: seed listening for joins at (127\.0\.0\.1:\d+)")]
    private static partial Regex SeedListening();

    public void Dispose() => _state.Delete(recursive: true);

    private sealed class TempDirectory : IDisposable
    {
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("plexus-impostor-");

        public string Path => _directory.FullName;

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
