using System.Text.Json;
using Plexus.Host.Tests.Support;

namespace Plexus.Host.Tests.EndToEnd;

/// <summary>The README's commands, run against the real host executable with the real memory plugin loaded from its folder.</summary>
public sealed class CliTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs the host with the in-process transport and discovery, so that a call serves the demo endpoints itself.
    /// They go right after the command, so that a test's own settings, later on the line, win.
    /// </summary>
    private static Task<HostProcess.Result> Run(params string[] args)
    {
        string[] inProcess = ["--Plexus:RequestPlane:Transport=memory", "--Plexus:Discovery:Provider=memory"];
        var command = args.Length > 0 && !args[0].StartsWith('-') ? 1 : 0;
        return HostProcess.RunAsync(Timeout, [.. args[..command], .. inProcess, .. args[command..]]);
    }

    [Fact]
    public async Task Call_generate_prints_the_stream_of_tokens()
    {
        var result = await Run("call", "demo/echo/generate", "--data", "hello", "--Plexus:Demo:TokenDelay=00:00:00");

        Assert.True(result.ExitCode == 0, result.StandardError);
        var text = result.StandardOutput.TrimEnd('\n');
        Assert.StartsWith("hello ", text, StringComparison.Ordinal);
        Assert.Equal(9, text.Split(' ').Length); // the prompt's word and the 8 default tokens
    }

    [Fact]
    public async Task Call_generate_with_lines_and_json_prints_one_message_each()
    {
        var lines = await Run("call", "demo/echo/generate", "--data", "a b", "--header", "max-tokens=3", "--lines", "--Plexus:Demo:TokenDelay=00:00:00");
        Assert.True(lines.ExitCode == 0, lines.StandardError);
        Assert.Equal(5, lines.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var json = await Run("call", "demo/echo/generate", "--data", "a", "--header", "max-tokens=2", "--json", "--Plexus:Demo:TokenDelay=00:00:00");
        Assert.True(json.ExitCode == 0, json.StandardError);
        var messages = json.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, messages.Length);
        using var first = JsonDocument.Parse(messages[0]);
        Assert.Equal(0, first.RootElement.GetProperty("index").GetInt32());
        Assert.Equal("a", first.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Call_echo_returns_the_payload_from_a_file()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "{\"x\":1}\n");
        try
        {
            var result = await Run("call", "demo/echo/echo", "--data", "@" + file);
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.Equal("{\"x\":1}\n", result.StandardOutput);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Relay_calls_another_endpoint_through_the_request_plane()
    {
        var direct = await Run("call", "demo/echo/generate", "--data", "relay me", "--Plexus:Demo:TokenDelay=00:00:00");
        var relayed = await Run("call", "demo/echo/relay", "--data", "relay me", "--header", "relay-to=demo/echo/generate", "--Plexus:Demo:TokenDelay=00:00:00");

        Assert.True(relayed.ExitCode == 0, relayed.StandardError);
        Assert.Equal(direct.StandardOutput, relayed.StandardOutput);

        var missing = await Run("call", "demo/echo/relay", "--data", "x");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("relay-to", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_error_exits_1_with_the_typed_error()
    {
        var result = await Run("call", "demo/echo/generate", "--data", "x", "--header", "max-tokens=lots");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("HandlerError", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("max-tokens", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_endpoint_exits_1_with_unavailable()
    {
        var result = await Run("call", "demo/echo/nothing", "--Plexus:Router:DiscoveryWait=00:00:00.2");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Unavailable", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("demo/echo/nothing", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_exits_1_with_timeout()
    {
        var result = await Run("call", "demo/echo/generate", "--data", "x", "--timeout", "300ms", "--Plexus:Demo:TokenDelay=00:00:01");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Timeout", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plugins_json_lists_the_memory_plugin()
    {
        var result = await Run("plugins", "--json");

        Assert.True(result.ExitCode == 0, result.StandardError);
        using var doc = JsonDocument.Parse(result.StandardOutput);
        var memory = doc.RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "memory");
        Assert.Equal("loaded", memory.GetProperty("status").GetString());
        Assert.Equal("2.7.0", memory.GetProperty("abstractionsVersion").GetString());
        Assert.Contains("transport", memory.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.False(string.IsNullOrEmpty(memory.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task Plugins_and_instances_print_tables_for_people()
    {
        var plugins = await Run("plugins");
        Assert.True(plugins.ExitCode == 0, plugins.StandardError);
        Assert.Matches(@"│ tcp +│ 1\.0\.0 +│ transport +│ 2\.7\.0 +│ loaded +│", plugins.StandardOutput);
        Assert.Contains("│ Name ", plugins.StandardOutput, StringComparison.Ordinal);

        var discovery = Directory.CreateTempSubdirectory("plexus-cli-");
        try
        {
            var none = await HostProcess.RunAsync(Timeout, "instances", "--Plexus:Discovery:Provider=file", $"--Plexus:Discovery:File:Directory={discovery.FullName}");
            Assert.True(none.ExitCode == 0, none.StandardError);
            Assert.Contains("No instances registered in discovery 'file'", none.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            discovery.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("call")]
    [InlineData("call", "not-an-endpoint")]
    [InlineData("frobnicate")]
    [InlineData("call", "demo/echo/echo", "--timeout", "soon")]
    [InlineData("plugins", "--bogus")]
    public async Task Wrong_arguments_print_usage_and_exit_2(params string[] args)
    {
        var result = await Run(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage:", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_describes_every_command()
    {
        var result = await Run("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "run", "call", "instances", "plugins", "cluster", "completion" })
        {
            Assert.Contains(command, result.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Completion_prints_a_bash_script_and_the_suggest_directive_completes_commands_and_options()
    {
        var script = await Run("completion", "bash");
        var commands = await Run("[suggest:3]", "cal");
        var options = await Run("[suggest:7]", "call --");

        Assert.Equal(0, script.ExitCode);
        Assert.Contains("complete -F _plexus_complete plexus Plexus.Host", script.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("[suggest:${point}]", script.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("call", commands.StandardOutput.Trim());
        Assert.Contains("--data", options.StandardOutput.Split('\n', StringSplitOptions.TrimEntries));
        Assert.Contains("--timeout", options.StandardOutput.Split('\n', StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Bench_is_not_a_host_command_and_help_names_the_bench_executable()
    {
        var bench = await Run("bench", "--transport", "memory");
        var help = await Run("--help");

        Assert.Equal(2, bench.ExitCode);
        Assert.Contains("Unknown command 'bench'", bench.StandardError, StringComparison.Ordinal);
        Assert.Equal("", bench.StandardOutput);
        Assert.Contains("--project bench/Plexus.Bench", help.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("  bench ", help.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_transport_name_exits_4_naming_the_key()
    {
        var result = await Run("call", "demo/echo/echo", "--Plexus:RequestPlane:Transport=carrier-pigeon");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Plexus:RequestPlane:Transport", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("carrier-pigeon", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_refuses_a_file_over_the_payload_limit_from_its_size_without_reading_it()
    {
        // Sparse: 3 GiB on paper, no disk. Reading it whole would not even fit one array.
        var file = Path.GetTempFileName();
        try
        {
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(3L * 1024 * 1024 * 1024);
            }

            var result = await Run("call", "demo/echo/echo", "--data", "@" + file);

            Assert.True(result.ExitCode == 2, $"Exit code {result.ExitCode}. Standard error:\n{result.StandardError}");
            var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(file, line, StringComparison.Ordinal);
            Assert.Contains("3221225472 bytes", line, StringComparison.Ordinal);
            Assert.Contains("268435456", line, StringComparison.Ordinal);
            Assert.Contains("Plexus:Transports:Memory:MaxPayloadBytes", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Call_checks_a_file_against_the_configured_payload_limit()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, Enumerable.Repeat((byte)'a', 1001).ToArray());
            var over = await Run("call", "demo/echo/echo", "--data", "@" + file, "--Plexus:Transports:Memory:MaxPayloadBytes=1000");
            Assert.Equal(2, over.ExitCode);
            Assert.Contains("1001 bytes", over.StandardError, StringComparison.Ordinal);
            Assert.Contains("limit of 1000 bytes", over.StandardError, StringComparison.Ordinal);
            Assert.Contains("Plexus:Transports:Memory:MaxPayloadBytes", over.StandardError, StringComparison.Ordinal);

            await File.WriteAllBytesAsync(file, Enumerable.Repeat((byte)'a', 1000).ToArray());
            var within = await Run("call", "demo/echo/echo", "--data", "@" + file, "--Plexus:Transports:Memory:MaxPayloadBytes=1000");
            Assert.True(within.ExitCode == 0, within.StandardError);
            Assert.Equal(1000, within.StandardOutput.TrimEnd('\n').Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_bind_address_that_is_not_an_address_exits_4_with_one_line_and_no_drain()
    {
        var result = await HostProcess.RunAsync(Timeout, "run", "--Plexus:Transports:Tcp:Bind=999.1.1.1:80", "--Plexus:RequestPlane:Transport=tcp", "--Plexus:Discovery:Provider=memory", "--Plexus:Status:Enabled=false");

        AssertOneConfigurationLine(result, "Plexus:Transports:Tcp:Bind is '999.1.1.1:80'", "not an IPv4 address");
    }

    [Fact]
    public async Task A_bind_address_in_use_exits_4_with_one_line_and_no_drain()
    {
        using var holder = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        holder.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        holder.Listen();
        var bind = $"127.0.0.1:{((System.Net.IPEndPoint)holder.LocalEndPoint!).Port}";

        var result = await HostProcess.RunAsync(Timeout, "run", $"--Plexus:Transports:Tcp:Bind={bind}", "--Plexus:RequestPlane:Transport=tcp", "--Plexus:Discovery:Provider=memory", "--Plexus:Status:Enabled=false");

        AssertOneConfigurationLine(result, $"Plexus:Transports:Tcp:Bind is '{bind}'", "in use");
    }

    [Fact]
    public async Task A_duration_in_an_unknown_format_exits_4_naming_the_key_and_the_expected_format()
    {
        var result = await Run("call", "demo/echo/echo", "--Plexus:RequestPlane:DefaultTimeout=banana");

        AssertOneConfigurationLine(result, "Plexus:RequestPlane:DefaultTimeout is 'banana'", "500ms", "00:00:10");
    }

    [Theory]
    [InlineData("Plexus:Server:DrainTimeout", "-5", "negative")]
    [InlineData("Plexus:Router:DiscoveryWait", "2", "has no unit")]
    [InlineData("Plexus:Discovery:File:PollInterval", "-250ms", "negative")]
    [InlineData("Plexus:Transports:Tcp:KeepAliveInterval", "5", "has no unit")]
    [InlineData("Plexus:Transports:Nats:PingInterval", "30", "has no unit")]
    public async Task A_duration_without_a_unit_or_below_zero_exits_4_naming_the_key(string key, string value, string problem)
    {
        var result = await Run("call", "demo/echo/echo", $"--{key}={value}");

        AssertOneConfigurationLine(result, $"{key} is '{value}'", problem, "500ms");
    }

    [Fact]
    public async Task Durations_with_units_are_read_in_host_and_plugin_settings()
    {
        var result = await Run(
            "call", "demo/echo/generate", "--data", "units", "--timeout", "1m",
            "--Plexus:Demo:TokenDelay=1ms", "--Plexus:Server:DrainTimeout=5s", "--Plexus:RequestPlane:DefaultTimeout=30s",
            "--Plexus:Router:DiscoveryWait=500ms", "--Plexus:Discovery:LeaseTtl=00:00:10",
            "--Plexus:Transports:Tcp:KeepAliveInterval=2s", "--Plexus:Transports:Nats:PingInterval=1m");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.StartsWith("units ", result.StandardOutput, StringComparison.Ordinal);
    }

    private static void AssertOneConfigurationLine(HostProcess.Result result, params string[] parts)
    {
        Assert.True(result.ExitCode == 4, $"Exit code {result.ExitCode}. Standard output:\n{result.StandardOutput}\nStandard error:\n{result.StandardError}");
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Configuration error: ", line, StringComparison.Ordinal);
        foreach (var part in parts)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("[1104]", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Drained", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_option_value_exits_4_naming_the_key()
    {
        var result = await Run("call", "demo/echo/echo", "--Plexus:Router:MaxRetries=-3");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Plexus:Router:MaxRetries", result.StandardError, StringComparison.Ordinal);
    }
}
