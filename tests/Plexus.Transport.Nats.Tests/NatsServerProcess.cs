using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// A real nats-server on a free loopback port, with a generated configuration in a temporary directory. Started by
/// tests, killed at the end. A missing binary fails the test with an install hint; it is never skipped.
/// </summary>
public sealed class NatsServerProcess : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/nats-server", "/usr/sbin/nats-server", "/usr/local/bin/nats-server"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly string _extraConfig;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private NatsServerProcess(string directory, int port, string extraConfig)
    {
        Directory = directory;
        Port = port;
        _extraConfig = extraConfig;
    }

    /// <summary>The temporary directory holding the configuration (and anything a test puts there, such as certificates).</summary>
    public string Directory { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's URL.</summary>
    public Uri Url => new($"nats://127.0.0.1:{Port}");

    /// <summary>What the server wrote to its output, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a server.</summary>
    /// <param name="extraConfig">Configuration lines added to the generated file (authorization, tls, max_payload).</param>
    /// <param name="prepare">Called with the temporary directory before the server starts, to write files the configuration names.</param>
    /// <returns>The running server.</returns>
    public static async Task<NatsServerProcess> StartAsync(string extraConfig = "", Action<string>? prepare = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"plexus-nats-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        prepare?.Invoke(directory);
        var server = new NatsServerProcess(directory, FreePort(), extraConfig);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>The nats-server binary; fails loudly when it is not installed.</summary>
    /// <returns>Its path.</returns>
    public static string Binary()
    {
        foreach (var candidate in Candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, "nats-server");
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "nats-server is not installed, and the NATS transport tests need a real one. Install it with 'sudo apt-get install -y nats-server' (or run ./test.sh, which installs it).");
    }

    /// <summary>Kills the server process at once (SIGKILL), as a crash would.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port, with the same configuration.</summary>
    /// <returns>A task that completes when it accepts connections.</returns>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Sends a signal to the server, such as <c>ldm</c> for lame-duck mode.</summary>
    /// <param name="signal">The signal name nats-server's <c>--signal</c> takes.</param>
    /// <returns>A task that completes when the signal was sent.</returns>
    public async Task SignalAsync(string signal)
    {
        var pid = _process?.Id ?? throw new InvalidOperationException("The server is not running.");
        using var sender = Process.Start(new ProcessStartInfo(Binary(), ["--signal", $"{signal}={pid}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        await sender.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StartProcessAsync()
    {
        var config = Path.Combine(Directory, "nats.conf");
        await File.WriteAllTextAsync(config, $"listen: 127.0.0.1:{Port}\n{_extraConfig}\n");
        var start = new ProcessStartInfo(Binary(), ["-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // Ready when it accepts a connection and sends INFO.
        var giveUp = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited with code {process.ExitCode} at start. Its output:\n{Log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var buffer = new byte[4];
                var read = await client.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
                if (read > 0)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is SocketException or IOException or TimeoutException)
            {
            }

            if (DateTime.UtcNow > giveUp)
            {
                throw new InvalidOperationException($"nats-server did not accept connections on port {Port} within {StartTimeout.TotalSeconds} s. Its output:\n{Log}");
            }

            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
