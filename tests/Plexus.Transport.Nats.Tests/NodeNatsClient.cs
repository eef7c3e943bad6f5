using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Calls NATS with the official JavaScript client (the npm package <c>nats</c>, pinned in <c>js/package.json</c>), run
/// by the machine's <c>node</c>: a client that shares no code with Plexus, so what it sees is what other NATS tools
/// see. The harness (<c>js/natsjs.mjs</c>) is copied beside the tests by the project file; on first use it is put in
/// a cache directory keyed by its content and installed there with <c>npm ci</c>, once per machine. Missing Node.js
/// fails the test with an install hint; it is never skipped.
/// </summary>
public static class NodeNatsClient
{
    private static readonly string[] HarnessFiles = ["package.json", "package-lock.json", "natsjs.mjs"];
    private static readonly string[] BinaryDirectories = ["/usr/bin", "/usr/local/bin"];
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    // What node needs on top of the operation's own timeout: start-up, connecting (natsjs.mjs gives up after 10 s) and closing.
    private static readonly TimeSpan ProcessSlack = TimeSpan.FromSeconds(30);

    private const string InstallHint =
        "Install Node.js 18+ and npm (on Debian: 'sudo apt-get install -y nodejs npm', or run ./test.sh, which installs them).";

    // One install per process; the file lock inside covers other processes (test runs of other worktrees, parallel assemblies).
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static Harness? _harness;

    /// <summary>Sends one request with nats.js (<c>nc.request</c>) and returns its reply, or the error nats.js reported.</summary>
    /// <param name="server">The NATS server's URL.</param>
    /// <param name="subject">The subject to send to.</param>
    /// <param name="payload">The request's payload.</param>
    /// <param name="headers">Headers to send with it, or <see langword="null"/> for none.</param>
    /// <param name="timeout">How long nats.js waits for the reply.</param>
    /// <param name="credentials">Token or user and password, or <see langword="null"/> for none.</param>
    /// <returns>The reply; <see cref="NodeNatsReply.Ok"/> is false for a timeout, no responders or a refused connection.</returns>
    public static async Task<NodeNatsReply> RequestAsync(
        Uri server, string subject, byte[] payload, IReadOnlyDictionary<string, string>? headers, TimeSpan timeout, NodeNatsCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var command = Command("request", server, timeout, credentials);
        command["subject"] = subject;
        command["payload"] = Convert.ToBase64String(payload);
        if (headers is not null)
        {
            var names = new JsonObject();
            foreach (var (name, value) in headers)
            {
                names[name] = value;
            }

            command["headers"] = names;
        }

        var (result, _) = await RunAsync(command, timeout);
        return NodeNatsReply.From(result);
    }

    /// <summary>
    /// Asks the NATS services on the server with nats.js's services client (<c>nc.services.client()</c>): one of
    /// <c>ping</c>, <c>info</c> or <c>stats</c>, for all services, those of one name, or one instance.
    /// </summary>
    /// <param name="server">The NATS server's URL.</param>
    /// <param name="verb"><c>ping</c>, <c>info</c> or <c>stats</c>.</param>
    /// <param name="name">The service name, or <see langword="null"/> for every service.</param>
    /// <param name="id">The service instance id (with <paramref name="name"/>), or <see langword="null"/> for every instance.</param>
    /// <param name="timeout">How long nats.js collects responses at most (it stops earlier once they stop coming).</param>
    /// <param name="credentials">Token or user and password, or <see langword="null"/> for none.</param>
    /// <returns>The JSON responses, as nats.js decoded them.</returns>
    /// <exception cref="InvalidOperationException">nats.js reported an error, such as <c>503</c> when no service answered.</exception>
    public static async Task<IReadOnlyList<JsonElement>> ServicesAsync(
        Uri server, string verb, string? name, string? id, TimeSpan timeout, NodeNatsCredentials? credentials = null)
    {
        var command = Command("services", server, timeout, credentials);
        command["verb"] = verb;
        if (name is not null)
        {
            command["name"] = name;
        }

        if (id is not null)
        {
            command["id"] = id;
        }

        var (result, stderr) = await RunAsync(command, timeout);
        if (!result.GetProperty("ok").GetBoolean())
        {
            throw new InvalidOperationException(
                $"nats.js services {verb}: {result.GetProperty("code").GetString()} ({result.GetProperty("message").GetString()}).{StderrSuffix(stderr)}");
        }

        return [.. result.GetProperty("responses").EnumerateArray()];
    }

    private static JsonObject Command(string op, Uri server, TimeSpan timeout, NodeNatsCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(server);
        var command = new JsonObject
        {
            ["op"] = op,
            ["servers"] = server.GetLeftPart(UriPartial.Authority),
            ["timeoutMs"] = Math.Max(1, (long)timeout.TotalMilliseconds),
        };
        if (credentials?.Token is { } token)
        {
            command["token"] = token;
        }

        if (credentials?.User is { } user)
        {
            command["user"] = user;
        }

        if (credentials?.Password is { } password)
        {
            command["pass"] = password;
        }

        return command;
    }

    /// <summary>Runs natsjs.mjs with the command on stdin; the result is its one JSON line.</summary>
    private static async Task<(JsonElement Result, string Stderr)> RunAsync(JsonObject command, TimeSpan timeout)
    {
        var harness = await EnsureInstalledAsync();
        var run = await RunProcessAsync(
            harness.Node, [Path.Combine(harness.Directory, "natsjs.mjs")], harness.Directory, command.ToJsonString(), timeout + ProcessSlack);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"nats.js harness failed (exit code {run.ExitCode}) for {command["op"]}.{StderrSuffix(run.Stderr)}\nstdout:\n{run.Stdout}");
        }

        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        try
        {
            using var document = JsonDocument.Parse(line ?? string.Empty);
            return (document.RootElement.Clone(), run.Stderr);
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"nats.js harness printed no JSON result.{StderrSuffix(run.Stderr)}\nstdout:\n{run.Stdout}", exception);
        }
    }

    private static string StderrSuffix(string stderr) => stderr.Length == 0 ? string.Empty : $"\nnode's stderr:\n{stderr}";

    private static async Task<Harness> EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            return _harness ??= await InstallAsync();
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static async Task<Harness> InstallAsync()
    {
        var node = FindBinary("node");
        var npm = FindBinary("npm");
        var version = await RunProcessAsync(node, ["--version"], Environment.CurrentDirectory, null, TimeSpan.FromSeconds(30));
        if (version.ExitCode != 0 || !int.TryParse(version.Stdout.Trim().TrimStart('v').Split('.')[0], out var major) || major < 18)
        {
            throw new InvalidOperationException($"{node} is not Node.js 18 or later ('node --version' said '{version.Stdout.Trim()}' {version.Stderr.Trim()}). {InstallHint}");
        }

        var source = Path.Combine(AppContext.BaseDirectory, "js");
        foreach (var file in HarnessFiles)
        {
            if (!File.Exists(Path.Combine(source, file)))
            {
                throw new InvalidOperationException($"The nats.js harness file {file} is not in {source}: the test project copies js/ beside the tests; rebuild it.");
            }
        }

        // Keyed by the harness's content: an edited script or lock file gets its own directory, and unchanged ones are
        // installed once per machine rather than once per build output.
        var directory = Path.Combine(Path.GetTempPath(), $"plexus-natsjs-{ContentHash(source)}");
        Directory.CreateDirectory(directory);
        await using var fileLock = await LockAsync(Path.Combine(directory, ".install.lock"));

        // The marker lives in node_modules, which npm ci deletes first: an install cut short leaves no marker and is redone.
        var marker = Path.Combine(directory, "node_modules", ".plexus-installed");
        if (!File.Exists(marker))
        {
            foreach (var file in HarnessFiles)
            {
                File.Copy(Path.Combine(source, file), Path.Combine(directory, file), overwrite: true);
            }

            var install = await RunProcessAsync(npm, ["ci", "--no-audit", "--no-fund"], directory, null, InstallTimeout);
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"'npm ci' of the nats.js harness failed in {directory} (exit code {install.ExitCode}); the npm registry must be reachable on first use.\nstdout:\n{install.Stdout}\nstderr:\n{install.Stderr}");
            }

            await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O"));
        }

        return new Harness(node, directory);
    }

    private static string FindBinary(string name)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(BinaryDirectories);
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{name}' is not installed, and the tests that use the official NATS JavaScript client need it. {InstallHint}");
    }

    private static string ContentHash(string source)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in HarnessFiles)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(File.ReadAllBytes(Path.Combine(source, file)));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>An exclusive lock on a file (flock on Linux), waited for while another process holds it.</summary>
    private static async Task<FileStream> LockAsync(string path)
    {
        var giveUp = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < giveUp)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<ProcessResult> RunProcessAsync(string file, string[] arguments, string workingDirectory, string? stdin, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };

        // npm's own chatter (update checks) is not wanted in a test run.
        start.Environment["npm_config_update_notifier"] = "false";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException(
                $"{Path.GetFileName(file)} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private sealed record Harness(string Node, string Directory);

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
}

/// <summary>Credentials nats.js connects with: a token, or a user and password.</summary>
/// <param name="Token">The authorization token.</param>
/// <param name="User">The user name.</param>
/// <param name="Password">The user's password.</param>
public sealed record NodeNatsCredentials(string? Token = null, string? User = null, string? Password = null);

/// <summary>What nats.js got for a request: the reply, or the error it reported (with nats.js's error code).</summary>
public sealed class NodeNatsReply
{
    /// <summary>Whether a reply came back; false for a timeout, no responders or a refused connection.</summary>
    public required bool Ok { get; init; }

    /// <summary>The reply's payload; empty when <see cref="Ok"/> is false.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>The reply's headers as nats.js read them (name to values), or <see langword="null"/> when it had none.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Headers { get; init; }

    /// <summary>The status code of the reply's header line, when it carried one (nats.js turns 503 into an error instead).</summary>
    public int? StatusCode { get; init; }

    /// <summary>The status description that came with <see cref="StatusCode"/>.</summary>
    public string? StatusDescription { get; init; }

    /// <summary>nats.js's error code when <see cref="Ok"/> is false: <c>503</c> for no responders, <c>TIMEOUT</c>, <c>CONNECTION_REFUSED</c>, ...</summary>
    public string? ErrorCode { get; init; }

    /// <summary>nats.js's error message when <see cref="Ok"/> is false.</summary>
    public string? ErrorMessage { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        Ok ? $"ok, {Payload.Length} bytes, {Headers?.Count ?? 0} headers{(StatusCode is { } code ? $", status {code} {StatusDescription}" : string.Empty)}" : $"error {ErrorCode}: {ErrorMessage}";

    internal static NodeNatsReply From(JsonElement result)
    {
        if (!result.GetProperty("ok").GetBoolean())
        {
            return new NodeNatsReply
            {
                Ok = false,
                Payload = [],
                ErrorCode = result.GetProperty("code").GetString(),
                ErrorMessage = result.TryGetProperty("message", out var message) ? message.GetString() : null,
            };
        }

        Dictionary<string, IReadOnlyList<string>>? headers = null;
        if (result.GetProperty("headers") is { ValueKind: JsonValueKind.Object } names)
        {
            headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var header in names.EnumerateObject())
            {
                headers[header.Name] = [.. header.Value.EnumerateArray().Select(value => value.GetString() ?? string.Empty)];
            }
        }

        var hasStatus = result.TryGetProperty("status", out var status);
        return new NodeNatsReply
        {
            Ok = true,
            Payload = Convert.FromBase64String(result.GetProperty("payload").GetString() ?? string.Empty),
            Headers = headers,
            StatusCode = hasStatus ? status.GetProperty("code").GetInt32() : null,
            StatusDescription = hasStatus ? status.GetProperty("description").GetString() : null,
        };
    }
}
