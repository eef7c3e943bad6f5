using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Plexus.Templates.Tests;

/// <summary>
/// The README's path for a stranger, run as written: pack (and check what the packages promise: version, readme, XML
/// docs, embedded PDBs, a deterministic build, the kit's xunit dependency), install the templates, generate a transport and a service,
/// build them from the packages, run the transport's conformance tests, drop both into a host's plugins folder, list
/// them, and call over the new transport. Each command runs in bash exactly as the README has it.
/// </summary>
/// <remarks>
/// Only the environment is the test's own, so that a run leaves the machine as it was and sees none of it:
/// <c>dotnet new</c> gets a <c>DOTNET_CLI_HOME</c> with a private template hive; generated projects restore into a private packages folder
/// (so they always get the packages just packed) from the local feed, falling back on the machine's NuGet cache for
/// everything else (no network); commands in the checkout keep the machine's packages folder, so the checkout's own
/// builds stay as they are; the nodes use their own discovery folder and a free status port.
/// </remarks>
public sealed class StrangersPathTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(4);
    private static readonly HashSet<string> TestHostVariables = new(StringComparer.OrdinalIgnoreCase)
    {
        "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "DOTNET_HOST_PATH",
    };
    private readonly string _root = Directory.CreateTempSubdirectory("plexus-strangers-path-").FullName;
    private readonly List<Process> _background = [];

    [Fact]
    public async Task The_README_path_from_dotnet_new_to_a_call_works_as_written()
    {
        string checkout = FindCheckout();
        IReadOnlyList<ReadmeCommand> commands = ReadmeScript.Read(Path.Combine(checkout, "README.md"));
        Assert.Contains(commands, c => c.Text.StartsWith("dotnet new plexus-transport", StringComparison.Ordinal));
        Dictionary<string, string> environment = PrepareEnvironment();
        string directory = checkout;
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (ReadmeCommand command in commands)
        {
            var clock = Stopwatch.StartNew();
            if (command.IsCd)
            {
                directory = (await RunAsync($"{command.Text} && pwd", directory, environment)).Trim();
            }
            else if (command.IsExport)
            {
                environment = ParseEnvironment(await RunAsync($"{command.Text} && env -0", directory, environment));
            }
            else if (command.InBackground)
            {
                await StartNodeAsync(command.Foreground, directory, environment);
            }
            else if (command.StopsBackground)
            {
                StopBackground();
            }
            else
            {
                string stdout = await RunAsync(command.Text, directory, environment);
                seen[command.Text] = stdout;
                if (command.Prints is { } promised)
                {
                    Assert.Contains(promised, stdout, StringComparison.Ordinal);
                }
            }

            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1}s  {command.Text}");
            if (command.Text.StartsWith("dotnet pack ", StringComparison.Ordinal))
            {
                PackageChecks.AssertFeed(Path.Combine(checkout, "artifacts", "packages"));
            }
        }

        // What the comments say in words, checked here: the kit passed, and both plugins were listed as loaded.
        Assert.Contains("Passed!", seen.Single(c => c.Key.StartsWith("dotnet test", StringComparison.Ordinal)).Value, StringComparison.Ordinal);
        string listing = seen.Single(c => c.Key.EndsWith("-- plugins", StringComparison.Ordinal)).Value;
        foreach (string plugin in new[] { "uds", "acme.greeter" })
        {
            Assert.Contains(listing.Split('\n'), row => row.Contains($"│ {plugin} ", StringComparison.Ordinal) && row.Contains("loaded", StringComparison.Ordinal));
        }
    }

    public void Dispose()
    {
        StopBackground();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a process that is going away; the temporary folder is the system's to clean.
        }
    }

    private Dictionary<string, string> PrepareEnvironment()
    {
        string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string folder in new[] { "home", "tmp", "packages", "discovery" })
        {
            Directory.CreateDirectory(Path.Combine(_root, folder));
        }

        // Above every generated project: no remote sources, and the machine's cache as a read-only fallback.
        File.WriteAllText(Path.Combine(_root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /></packageSources>
              <fallbackPackageFolders><clear /><add key="machine" value="{machinePackages}" /></fallbackPackageFolders>
            </configuration>
            """);

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            string name = (string)entry.Key;
            // The test host's own MSBuild and test-platform settings would steer the builds the commands start.
            if (!TestHostVariables.Contains(name) && !name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                && !name.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("Plexus__", StringComparison.Ordinal))
            {
                environment[name] = (string)entry.Value!;
            }
        }

        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // No build servers or nodes left running after the test.
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["TMPDIR"] = Path.Combine(_root, "tmp");
        environment["Plexus__Discovery__File__Directory"] = Path.Combine(_root, "discovery");
        environment["Plexus__Status__Url"] = "http://127.0.0.1:0";
        return environment;
    }

    private ProcessStartInfo Bash(string command, string directory, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment.Clear();
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }

        // dotnet new keeps its templates in a hive of this run's own. Nothing else gets that home, because NuGet keeps
        // its settings there too, and a checkout restored with other settings rebuilds from scratch.
        if (command.StartsWith("dotnet new ", StringComparison.Ordinal))
        {
            start.Environment["DOTNET_CLI_HOME"] = Path.Combine(_root, "home");
        }

        // Generated projects restore the Plexus packages just packed into a folder of this run's own.
        if (directory.StartsWith(_root, StringComparison.Ordinal))
        {
            start.Environment["NUGET_PACKAGES"] = Path.Combine(_root, "packages");
        }

        return start;
    }

    private async Task<string> RunAsync(string command, string directory, Dictionary<string, string> environment)
    {
        using Process process = Process.Start(Bash(command, directory, environment))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{command}' did not finish within {CommandTimeout}.");
        }

        Assert.True(process.ExitCode == 0, $"'{command}' in {directory} exited with {process.ExitCode}.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        return await stdout;
    }

    private async Task StartNodeAsync(string command, string directory, Dictionary<string, string> environment)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new StringBuilder();
        Process process = Process.Start(Bash($"exec {command}", directory, environment))!;
        _background.Add(process);
        void OnLine(string? line)
        {
            if (line is null)
            {
                ready.TrySetException(new InvalidOperationException($"'{command}' ended before serving:\n{lines}"));
                return;
            }

            lock (lines)
            {
                lines.AppendLine(line);
            }

            if (line.Contains("[1000]", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
        output.WriteLine(lines.ToString());
    }

    private void StopBackground()
    {
        foreach (Process process in _background)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        _background.Clear();
    }

    private static Dictionary<string, string> ParseEnvironment(string nulSeparated)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in nulSeparated.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = entry.IndexOf('=', StringComparison.Ordinal);
            environment[entry[..equals]] = entry[(equals + 1)..];
        }

        return environment;
    }

    private static string FindCheckout()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Plugins.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Plugins.sln not found above " + AppContext.BaseDirectory);
    }
}
