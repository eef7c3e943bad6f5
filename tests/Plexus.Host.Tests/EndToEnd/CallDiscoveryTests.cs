using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// A call's wait for discovery, against a real node over TCP with file discovery: discovery that has not answered yet
/// is waited for, and discovery that answered with none is reported as such.
/// </summary>
public sealed class CallDiscoveryTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-call-discovery-").FullName;

    private string[] Settings(params string[] more) =>
    [
        "--Plexus:RequestPlane:Transport=tcp",
        "--Plexus:Discovery:Provider=file",
        $"--Plexus:Discovery:File:Directory={_directory}",
        "--Plexus:Transports:Tcp:Bind=127.0.0.1:0",
        "--Plexus:Status:Url=http://127.0.0.1:0",
        .. more,
    ];

    [Fact]
    public async Task Calls_that_allow_no_time_for_an_instance_to_appear_still_find_a_running_node()
    {
        await using var node = await NodeProcess.StartAsync(Timeout, Settings());

        // No wait at all once discovery answered: every call succeeds only if it waits for discovery's first answer,
        // which is what a busy machine delays.
        var calls = Enumerable.Range(0, 4)
            .Select(i => HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", "--data", $"call {i}", .. Settings("--Plexus:Router:DiscoveryWait=00:00:00")]))
            .ToList();
        var results = await Task.WhenAll(calls);

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].ExitCode == 0, $"Call {i} exited {results[i].ExitCode}: {results[i].StandardError}");
            Assert.Equal($"call {i}\n", results[i].StandardOutput);
        }
    }

    [Fact]
    public async Task A_call_nobody_serves_says_discovery_answered_with_none()
    {
        var result = await HostProcess.RunAsync(Timeout, ["call", "demo/echo/echo", .. Settings("--Plexus:Router:DiscoveryWait=00:00:00.200")]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Unavailable", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("answered with none", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("'file'", result.StandardError, StringComparison.Ordinal);
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
