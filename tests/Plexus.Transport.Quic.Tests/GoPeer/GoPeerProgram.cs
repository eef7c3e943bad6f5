using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// The independent Go implementation of the Plexus QUIC protocol (<c>GoPeer/plexuspeer.go</c>, on quic-go): built once
/// per test run, then started as a server or run as a one-shot client.
/// </summary>
/// <remarks>
/// Needs the Debian packages <c>golang-go golang-github-lucas-clemente-quic-go-dev</c>; without them the build fails
/// loudly (the tests that use the peer fail, they are never skipped).
/// </remarks>
public static class GoPeerProgram
{
    /// <summary>The endpoint the Go server answers with an echo of the request payload.</summary>
    public const string EchoEndpoint = "interop/go/echo";

    /// <summary>The packages the Go peer needs, for error messages.</summary>
    public const string RequiredPackages = "golang-go golang-github-lucas-clemente-quic-go-dev";

    private const string GoPath = "/usr/share/gocode";
    private const string QuicGoPackage = "github.com/lucas-clemente/quic-go";

    /// <summary>Payloads longer than this go to the client through a file: one argv string is at most 128 KiB on Linux.</summary>
    private const int MaxPayloadArgumentBytes = 64 * 1024;

    private static readonly Lazy<Task<string>> Executable = new(BuildAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Builds the Go peer on first use (thread-safe, once per process) and returns the executable's path.</summary>
    public static Task<string> GetExecutableAsync() => Executable.Value;

    /// <summary>
    /// Starts <c>plexuspeer server</c> on a free loopback UDP port and waits for it to report the bound address.
    /// With <paramref name="clientCaPath"/> the server requires client certificates signed by that CA.
    /// </summary>
    public static async Task<GoPeerServer> StartServerAsync(
        string certificatePath,
        string keyPath,
        string? clientCaPath = null,
        string listen = "127.0.0.1:0",
        IEnumerable<string>? extraArguments = null,
        TimeSpan? startTimeout = null)
    {
        var executable = await GetExecutableAsync();
        var arguments = new List<string> { "server", "-listen", listen, "-cert", certificatePath, "-key", keyPath };
        if (clientCaPath is not null)
        {
            arguments.AddRange(["-ca", clientCaPath]);
        }

        arguments.AddRange(extraArguments ?? []);
        var process = Start(executable, arguments, redirectInput: true);
        var server = new GoPeerServer(process);
        try
        {
            await server.WaitForListeningAsync(startTimeout ?? TimeSpan.FromSeconds(30));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>plexuspeer client</c> once and returns its exit code and output; kills it at the timeout.</summary>
    public static async Task<GoPeerResult> RunClientAsync(GoPeerClientOptions options, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? payloadFile = null;
        try
        {
            var arguments = new List<string>
            {
                "client",
                "-connect", options.Connect,
                "-servername", options.ServerName,
                "-endpoint", options.Endpoint,
                "-instance", options.Instance.ToString(CultureInfo.InvariantCulture),
            };
            if (options.CaPath is not null)
            {
                arguments.AddRange(["-ca", options.CaPath]);
            }

            if (options.CertificatePath is not null)
            {
                arguments.AddRange(["-cert", options.CertificatePath]);
            }

            if (options.KeyPath is not null)
            {
                arguments.AddRange(["-key", options.KeyPath]);
            }

            if (options.RequestId is not null)
            {
                arguments.AddRange(["-request-id", options.RequestId]);
            }

            if (options.DeadlineMilliseconds is { } deadline)
            {
                arguments.AddRange(["-deadline-ms", deadline.ToString(CultureInfo.InvariantCulture)]);
            }

            foreach (var (name, value) in options.Headers)
            {
                arguments.AddRange(["-header", $"{name}={value}"]);
            }

            if (options.Checksum)
            {
                arguments.Add("-checksum");
            }

            var payload = options.Payload ?? [];
            if (payload.Length > MaxPayloadArgumentBytes || Array.IndexOf(payload, (byte)0) >= 0)
            {
                payloadFile = Path.Combine(Path.GetTempPath(), $"plexuspeer-payload-{Guid.NewGuid():N}.bin");
                await File.WriteAllBytesAsync(payloadFile, payload, cancellationToken);
                arguments.AddRange(["-payload-file", payloadFile]);
            }
            else
            {
                arguments.AddRange(["-payload", Encoding.UTF8.GetString(payload)]);
            }

            var limit = timeout ?? TimeSpan.FromSeconds(60);
            arguments.AddRange(["-timeout", $"{(long)limit.TotalMilliseconds}ms"]);
            return await RunAsync(await GetExecutableAsync(), arguments, limit + TimeSpan.FromSeconds(10), cancellationToken);
        }
        finally
        {
            if (payloadFile is not null)
            {
                File.Delete(payloadFile);
            }
        }
    }

    private static async Task<string> BuildAsync()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "GoPeer");
        if (!Directory.Exists(source) || Directory.GetFiles(source, "*.go").Length == 0)
        {
            throw new InvalidOperationException($"The Go peer's sources are missing from {source}; the test project copies GoPeer/**/*.go to its output.");
        }

        if (!Directory.Exists(Path.Combine(GoPath, "src", QuicGoPackage)))
        {
            throw new InvalidOperationException(
                $"quic-go is not installed ({Path.Combine(GoPath, "src", QuicGoPackage)} is missing). The QUIC interop tests need the Go peer; install the Debian packages: apt-get install {RequiredPackages}");
        }

        var work = Directory.CreateTempSubdirectory("plexuspeer-").FullName;
        var src = Path.Combine(work, "src");
        Directory.CreateDirectory(src);
        foreach (var file in Directory.GetFiles(source, "*.go"))
        {
            File.Copy(file, Path.Combine(src, Path.GetFileName(file)));
        }

        var output = Path.Combine(work, "plexuspeer");
        GoPeerResult result;
        try
        {
            result = await RunAsync("go", ["build", "-o", output, "."], TimeSpan.FromMinutes(5), CancellationToken.None, src, BuildEnvironment(work));
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"The Go toolchain ('go') could not be started: {e.Message}. The QUIC interop tests need the Go peer; install the Debian packages: apt-get install {RequiredPackages}", e);
        }

        if (result.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException(
                $"Building the Go peer failed (go build exit code {result.ExitCode}). It needs the Debian packages {RequiredPackages}.{Environment.NewLine}{result.StandardError}{result.StandardOutput}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return output;
    }

    private static Dictionary<string, string> BuildEnvironment(string work)
    {
        // The build cache is shared by test runs (go keeps it consistent under concurrent use); everything else is per run.
        var cache = Path.Combine(Path.GetTempPath(), "plexus-gopeer-gocache");
        var environment = new Dictionary<string, string>
        {
            ["GOPATH"] = GoPath,
            ["GO111MODULE"] = "off",
            ["GOFLAGS"] = string.Empty,
            ["GOCACHE"] = cache,
        };
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("HOME")))
        {
            environment["HOME"] = work;
        }

        return environment;
    }

    internal static Process Start(string fileName, IEnumerable<string> arguments, bool redirectInput, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        // quic-go warns on stderr when it cannot raise the UDP receive buffer; that is noise here.
        info.Environment["QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
    }

    private static async Task<GoPeerResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(fileName, arguments, redirectInput: false, workingDirectory, environment);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            var partial = $"stdout:{Environment.NewLine}{await stdout}{Environment.NewLine}stderr:{Environment.NewLine}{await stderr}";
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{Path.GetFileName(fileName)} {string.Join(' ', arguments.Take(2))} did not finish within {timeout}; it was killed.{Environment.NewLine}{partial}");
        }

        return new GoPeerResult(process.ExitCode, await stdout, await stderr);
    }

    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in the meantime.
        }
        catch (Win32Exception)
        {
            // It is exiting.
        }
    }
}

/// <summary>What the Go client is asked to do; <see cref="Connect"/> is <c>host:port</c>.</summary>
public sealed record GoPeerClientOptions
{
    /// <summary>The server's address, <c>host:port</c> (IPv6 as <c>[::1]:port</c>).</summary>
    public required string Connect { get; init; }

    /// <summary>The CA (PEM) the server certificate is checked against; null means the system store.</summary>
    public string? CaPath { get; init; }

    /// <summary>The name the server certificate must carry; also sent as SNI.</summary>
    public string ServerName { get; init; } = "localhost";

    /// <summary><c>namespace/component/endpoint</c>.</summary>
    public string Endpoint { get; init; } = GoPeerProgram.EchoEndpoint;

    /// <summary>The request payload (sent through a file when large or binary).</summary>
    public byte[]? Payload { get; init; }

    /// <summary>Client certificate (PEM) for mutual TLS.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>Client key (PEM, PKCS#8) for mutual TLS.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The instance id put in the REQUEST.</summary>
    public ulong Instance { get; init; }

    /// <summary>The request id; null lets the peer generate one.</summary>
    public string? RequestId { get; init; }

    /// <summary>A deadline this many milliseconds from the start; null for none.</summary>
    public long? DeadlineMilliseconds { get; init; }

    /// <summary>Request headers.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Whether the client sets the TwoPart checksum flag on its frames.</summary>
    public bool Checksum { get; init; }

    /// <summary>Convenience: options for <paramref name="endPoint"/>.</summary>
    public static GoPeerClientOptions For(IPEndPoint endPoint, string? caPath)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return new GoPeerClientOptions { Connect = endPoint.ToString(), CaPath = caPath };
    }
}

/// <summary>The outcome of one Go client run.</summary>
public sealed record GoPeerResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The stdout lines, without empty ones (<c>alpn plexus/1</c>, <c>message …</c>, <c>error …</c>, <c>end</c>).</summary>
    public IReadOnlyList<string> Lines => StandardOutput.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <inheritdoc />
    public override string ToString() =>
        $"exit code {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{Truncate(StandardOutput)}{Environment.NewLine}stderr:{Environment.NewLine}{Truncate(StandardError)}";

    private static string Truncate(string text) => text.Length <= 4000 ? text : string.Concat(text.AsSpan(0, 4000), $"… ({text.Length} chars)");
}

/// <summary>A running <c>plexuspeer server</c>; disposing closes its stdin and kills it if it does not exit at once.</summary>
public sealed class GoPeerServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineAdded = new(0);
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<IPEndPoint> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private int _disposed;

    internal GoPeerServer(Process process)
    {
        _process = process;
        _stderrPump = Task.Run(PumpStderrAsync);
        _stdoutPump = Task.Run(PumpStdoutAsync);
    }

    /// <summary>The UDP address the server is bound to.</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.None, 0);

    /// <summary><see cref="EndPoint"/> as <c>host:port</c>, for <see cref="GoPeerClientOptions.Connect"/>.</summary>
    public string Address => EndPoint.ToString();

    /// <summary>Stdout lines so far: <c>listening …</c>, then one <c>request &lt;endpoint&gt; id=… instance=… deadline=… length=… headers=k=v,…</c> per request.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Stderr so far (connection and stream errors the server saw).</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// Waits until a stdout line equals <paramref name="expected"/>: the server prints a request's line on its own
    /// goroutine, and the pump reads it on its own, so it may come after the client has had its answer.
    /// </summary>
    /// <returns>Whether it came within <paramref name="timeout"/>.</returns>
    public async Task<bool> WaitForLineAsync(string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_lines.Contains(expected))
            {
                return true;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _lineAdded.WaitAsync(left))
            {
                return _lines.Contains(expected);
            }
        }
    }

    internal async Task WaitForListeningAsync(TimeSpan timeout)
    {
        try
        {
            EndPoint = await _listening.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The Go server did not report its address within {timeout}. stderr: {StandardError}");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                GoPeerProgram.Kill(_process);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        await Task.WhenAll(_stdoutPump, _stderrPump);
        _process.Dispose();
        _lineAdded.Dispose();
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                _lines.Enqueue(line);
                _lineAdded.Release();
                if (line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    if (IPEndPoint.TryParse(line["listening ".Length..].Trim(), out var endPoint))
                    {
                        _listening.TrySetResult(endPoint);
                    }
                    else
                    {
                        _listening.TrySetException(new InvalidOperationException($"The Go server printed an address that does not parse: {line}"));
                    }
                }
            }
        }
        finally
        {
            // Fails the start when the process exits before it listens (bad certificate, port in use, …).
            _listening.TrySetException(new InvalidOperationException($"The Go server exited before it listened. stderr: {await WaitForStderrAsync()}"));
        }
    }

    private async Task<string> WaitForStderrAsync()
    {
        await Task.WhenAny(_stderrPump, Task.Delay(TimeSpan.FromSeconds(2)));
        return StandardError;
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_stderr)
            {
                _stderr.AppendLine(line);
            }
        }
    }
}
