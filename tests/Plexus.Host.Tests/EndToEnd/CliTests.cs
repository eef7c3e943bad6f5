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
        Assert.Equal("1.0.0", memory.GetProperty("abstractionsVersion").GetString());
        Assert.Contains("transport", memory.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.False(string.IsNullOrEmpty(memory.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task Plugins_and_instances_print_tables_for_people()
    {
        var plugins = await Run("plugins");
        Assert.True(plugins.ExitCode == 0, plugins.StandardError);
        Assert.Matches(@"│ tcp +│ 1\.0\.0 +│ transport +│ 1\.0\.0 +│ loaded +│", plugins.StandardOutput);
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
        foreach (var command in new[] { "run", "call", "instances", "plugins" })
        {
            Assert.Contains(command, result.StandardOutput, StringComparison.Ordinal);
        }
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
    public async Task Invalid_option_value_exits_4_naming_the_key()
    {
        var result = await Run("call", "demo/echo/echo", "--Plexus:Router:MaxRetries=-3");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("Plexus:Router:MaxRetries", result.StandardError, StringComparison.Ordinal);
    }
}
