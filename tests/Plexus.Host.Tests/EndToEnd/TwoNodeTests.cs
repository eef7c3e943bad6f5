using System.Text.Json;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// Two real nodes on one machine over TCP find each other through file discovery and serve each other's requests:
/// a call to one node's relay endpoint makes that node call the other node.
/// </summary>
public sealed class TwoNodeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-two-nodes-").FullName;

    private string[] Settings(params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_directory}",
        "--Plexus:Discovery:File:PollInterval=00:00:00.050",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Demo:TokenDelay=00:00:00",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        .. more,
    ];

    [Fact]
    public async Task Nodes_find_each_other_and_serve_each_others_requests_then_leave_on_sigterm()
    {
        await using var alpha = await NodeProcess.StartAsync(Timeout, Settings("--Plexus:Demo:Namespace=alpha", "--Plexus:NodeId=alpha-node"));
        await using var beta = await NodeProcess.StartAsync(Timeout, Settings("--Plexus:Demo:Namespace=beta", "--Plexus:NodeId=beta-node"));

        var listed = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings()]);
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        using (var doc = JsonDocument.Parse(listed.StandardOutput))
        {
            var instances = doc.RootElement.EnumerateArray().ToList();
            Assert.Equal(6, instances.Count);
            Assert.All(instances, i => Assert.Equal("tcp", i.GetProperty("transport").GetString()));
            Assert.Equal(["alpha-node", "beta-node"], instances.Select(i => i.GetProperty("metadata").GetProperty("node").GetString()).Distinct().Order());
        }

        var expected = await HostProcess.RunAsync(Timeout, ["call", "beta/echo/generate", "--data", "over tcp", .. Settings()]);
        Assert.True(expected.ExitCode == 0, expected.StandardError);
        Assert.StartsWith("over tcp ", expected.StandardOutput, StringComparison.Ordinal);

        // alpha serves the call and itself calls beta, and the other way round.
        var viaAlpha = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/relay", "--data", "over tcp", "--header", "relay-to=beta/echo/generate", .. Settings()]);
        Assert.True(viaAlpha.ExitCode == 0, viaAlpha.StandardError);
        Assert.Equal(expected.StandardOutput, viaAlpha.StandardOutput);
        var viaBeta = await HostProcess.RunAsync(Timeout, ["call", "beta/echo/relay", "--data", "x", "--header", "relay-to=alpha/echo/echo", .. Settings()]);
        Assert.True(viaBeta.ExitCode == 0, viaBeta.StandardError);
        Assert.Equal("x\n", viaBeta.StandardOutput);

        Assert.Equal(0, await alpha.StopAsync(Timeout));
        Assert.Contains("[1104]", alpha.Output, StringComparison.Ordinal); // drained

        // A stopped node leaves discovery at once, not after its lease expires.
        var after = await HostProcess.RunAsync(Timeout, ["instances", "--json", .. Settings()]);
        using (var doc = JsonDocument.Parse(after.StandardOutput))
        {
            Assert.All(doc.RootElement.EnumerateArray(), i => Assert.Equal("beta-node", i.GetProperty("metadata").GetProperty("node").GetString()));
        }

        var gone = await HostProcess.RunAsync(Timeout, ["call", "alpha/echo/echo", "--data", "x", "--Plexus:Router:DiscoveryWait=00:00:00.200", .. Settings()]);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Unavailable", gone.StandardError, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
