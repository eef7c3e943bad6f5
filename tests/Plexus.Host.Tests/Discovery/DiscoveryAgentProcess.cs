using System.Diagnostics;
using System.Globalization;

namespace Plexus.Host.Tests.Discovery;

/// <summary>A running Plexus.DiscoveryAgent: a separate process holding one file-discovery registration.</summary>
internal sealed class DiscoveryAgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private DiscoveryAgentProcess(Process process)
    {
        _process = process;
    }

    public static string AgentPath => Path.Combine(AppContext.BaseDirectory, "discovery-agent", "Plexus.DiscoveryAgent.dll");

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static DiscoveryAgentProcess Start(string directory, EndpointAddress endpoint, InstanceId id, TimeSpan ttl)
    {
        if (!File.Exists(AgentPath))
        {
            throw new FileNotFoundException($"The discovery agent was not built next to the tests; build tests/Plexus.Host.Tests (it copies the agent to {AgentPath}).", AgentPath);
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(AgentPath);
        info.ArgumentList.Add(directory);
        info.ArgumentList.Add(endpoint.ToString());
        info.ArgumentList.Add(id.ToString());
        info.ArgumentList.Add(((long)ttl.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var agent = new DiscoveryAgentProcess(process);
        process.OutputDataReceived += (_, e) => agent.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => agent.OnLine(e.Data, isError: true);
        process.Exited += (_, _) => agent._ready.TrySetException(new InvalidOperationException("The discovery agent exited before it was ready."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The discovery agent did not become ready: {ex.Message} Output:\n{Output}", ex);
        }
    }

    /// <summary>Ends the agent without any chance to clean up, like a crash.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Asks the agent to stop gracefully, then waits for it to exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync("stop");
        await _process.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(isError ? "err: " + line : line);
        }

        if (!isError && line == "ready")
        {
            _ready.TrySetResult();
        }
    }
}
