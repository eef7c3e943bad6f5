using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Plexus.Bench;

/// <summary>
/// The nats-server a run goes through: either one the bench starts for the run on a free loopback port and stops at the
/// end, or one named on the command line (<c>--Plexus:Transports:Nats:Url</c>), which must be on loopback too.
/// </summary>
internal sealed class BenchNatsServer : IAsyncDisposable
{
    /// <summary>The configuration key of the NATS transport's server URLs, also read by the nats-raw baseline.</summary>
    public const string UrlKey = "Plexus:Transports:Nats:Url";

    private const int MaxLogChars = 16 * 1024;

    private static readonly string[] Candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private readonly StringBuilder _log = new();
    private Process? _process;

    private BenchNatsServer(Uri url, Process? process)
    {
        Url = url;
        _process = process;
    }

    /// <summary>The server's URL; for a configured server, the first of the configured list.</summary>
    public Uri Url { get; }

    /// <summary>True when the bench started the server (and will stop it).</summary>
    public bool Started => _process is not null;

    /// <summary>Uses the servers of a configured <c>Url</c> list, after checking that every one is on loopback.</summary>
    /// <exception cref="BenchFailedException">A URL is malformed or not on loopback.</exception>
    public static BenchNatsServer Configured(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        Uri? first = null;
        foreach (var part in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = part.Contains("://", StringComparison.Ordinal) ? part : "nats://" + part;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Host.Length == 0)
            {
                throw new BenchFailedException($"--{UrlKey}: '{part}' is not a NATS server URL such as nats://127.0.0.1:4222.");
            }

            if (!IsLoopbackHost(url))
            {
                throw new BenchFailedException($"--{UrlKey}: '{part}' is not on loopback; the bench only runs over loopback. Fix: point it at a nats-server on 127.0.0.1, or leave the setting out and the bench starts one.");
            }

            first ??= url;
        }

        return new BenchNatsServer(first ?? throw new BenchFailedException($"--{UrlKey} is empty."), null);
    }

    /// <summary>Starts <c>nats-server -a 127.0.0.1 -p &lt;free port&gt;</c> and waits until it greets a client.</summary>
    /// <exception cref="BenchFailedException">nats-server is not installed or did not start.</exception>
    public static async Task<BenchNatsServer> StartAsync(CancellationToken cancellationToken)
    {
        var binary = FindBinary();

        // A free port can be taken between probing and binding; a server that exits at once is tried again elsewhere.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var start = new ProcessStartInfo(binary, ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            var process = Process.Start(start) ?? throw new BenchFailedException($"{binary} did not start.");
            var server = new BenchNatsServer(new Uri($"nats://127.0.0.1:{port}"), process);
            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await server.WaitReadyAsync(port, cancellationToken);
                return server;
            }
            catch (BenchFailedException) when (attempt < 3 && process.HasExited)
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>The nats-server binary.</summary>
    /// <exception cref="BenchFailedException">It is not installed.</exception>
    public static string FindBinary()
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

        throw new BenchFailedException(
            $"nats-server is not installed, and the NATS measurements go through a real one. Fix: 'sudo apt-get install -y nats-server' (Debian/Ubuntu), or point the bench at a running one on loopback with --{UrlKey}=nats://127.0.0.1:4222.");
    }

    /// <summary>The CPU time the server has used so far, if the bench started it; null for a server of someone else's.</summary>
    public TimeSpan? ProcessorTime
    {
        get
        {
            if (_process is not { } process)
            {
                return null;
            }

            try
            {
                process.Refresh();
                return process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                // It has exited; its NATS measurements fail on their own.
                return null;
            }
        }
    }

    /// <summary>Stops the server if the bench started it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or it will be reaped with this process.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static bool IsLoopbackHost(Uri url) =>
        IPAddress.TryParse(url.IdnHost, out var ip) ? IPAddress.IsLoopback(ip) : string.Equals(url.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // Ready when it accepts a connection and sends its INFO line.
    private async Task WaitReadyAsync(int port, CancellationToken cancellationToken)
    {
        var process = _process!;
        var giveUp = Stopwatch.GetTimestamp() + (long)(ReadyTimeout.TotalSeconds * Stopwatch.Frequency);
        var buffer = new byte[4];
        while (true)
        {
            if (process.HasExited)
            {
                throw new BenchFailedException($"nats-server exited with code {process.ExitCode} at start. Its output:\n{Log()}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), attempt.Token);
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, attempt.Token) > 0)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetTimestamp() > giveUp)
            {
                throw new BenchFailedException($"nats-server did not accept connections on 127.0.0.1:{port} within {ReadyTimeout.TotalSeconds:0} s. Its output:\n{Log()}");
            }

            await Task.Delay(50, cancellationToken);
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
            if (_log.Length < MaxLogChars)
            {
                _log.AppendLine(line);
            }
        }
    }

    private string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }
}
