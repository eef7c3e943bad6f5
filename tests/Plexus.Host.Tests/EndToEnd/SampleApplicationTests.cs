using System.Diagnostics;
using System.Runtime.InteropServices;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>
/// The README's sample (samples/HelloPlexus), an application of its own on the library, serves its endpoint and calls
/// an endpoint of a separately started node, over TCP with file discovery.
/// </summary>
public sealed partial class SampleApplicationTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("plexus-sample-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_sample_serves_its_endpoint_and_calls_another_nodes_endpoint()
    {
        string[] discovery = ["--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={_directory}", "--Plexus:Discovery:File:PollInterval=50ms"];
        await using var node = await NodeProcess.StartAsync(Timeout, ["--Plexus:Transports:Tcp:Bind=127.0.0.1:0", "--Plexus:Status:Url=http://127.0.0.1:0", .. discovery]);

        // Built by the solution beside the host, in the same configuration.
        var configuration = new DirectoryInfo(Path.GetDirectoryName(HostProcess.HostDll)!).Parent!.Name;
        var sample = Path.Combine(HostProcess.RepositoryRoot, "samples", "HelloPlexus", "bin", configuration, "net10.0", "HelloPlexus.dll");
        Assert.True(File.Exists(sample), $"The sample is not built at {sample}; build Plugins.sln first.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(sample)! };
        foreach (var arg in (string[])[sample, .. discovery])
        {
            start.ArgumentList.Add(arg);
        }

        using var app = Process.Start(start)!;
        var answered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        app.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.StartsWith("demo/echo/echo answered:", StringComparison.Ordinal) == true)
            {
                answered.TrySetResult(e.Data);
            }
        };
        app.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        try
        {
            // The sample called the node's endpoint...
            var line = await answered.Task.WaitAsync(Timeout).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : $"no answer; the sample wrote:\n{Output(output)}", TaskScheduler.Default);
            Assert.Equal("demo/echo/echo answered: hi from the sample", line);

            // ...and the node's CLI reaches the sample's own endpoint through discovery.
            var call = await HostProcess.RunAsync(Timeout, ["call", "sample/greeter/hello", "--data", "world", .. discovery]);
            Assert.True(call.ExitCode == 0, call.StandardError);
            Assert.Equal("hello, world", call.StandardOutput.TrimEnd('\n'));

            // A service manager's stop drains it and it exits cleanly.
            Assert.Equal(0, Kill(app.Id, 15));
            await app.WaitForExitAsync().WaitAsync(Timeout);
            Assert.Equal(0, app.ExitCode);
        }
        catch (Exception) when (!app.HasExited)
        {
            app.Kill(entireProcessTree: true);
            throw;
        }
    }

    private static string Output(System.Text.StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
