using Plexus.Host.Cli;

namespace Plexus.Host.Tests.Cli;

public sealed class ParsedArgumentsTests
{
    [Fact]
    public void No_command_means_run()
    {
        var parsed = ParsedArguments.Parse(["--Plexus:Router:Strategy=random"]);

        Assert.Equal("run", parsed.Command);
        Assert.Equal(["--Plexus:Router:Strategy=random"], parsed.ConfigurationArgs);
    }

    [Fact]
    public void Options_positionals_and_configuration_are_separated()
    {
        var parsed = ParsedArguments.Parse(["call", "a/b/c", "--data", "x y", "--header", "k=v", "--header=q=r", "--json", "--Plexus:Demo:MaxTokens", "3"]);

        Assert.Equal("call", parsed.Command);
        Assert.Equal(["a/b/c"], parsed.Positional);
        Assert.Equal("x y", parsed.Value("data"));
        Assert.Equal(["k=v", "q=r"], parsed.Values("header"));
        Assert.True(parsed.Has("json"));
        Assert.Equal(["--Plexus:Demo:MaxTokens", "3"], parsed.ConfigurationArgs);
    }

    [Fact]
    public void Missing_value_is_a_usage_error()
    {
        var ex = Assert.Throws<UsageException>(() => ParsedArguments.Parse(["call", "a/b/c", "--data"]));
        Assert.Contains("--data", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_option_is_refused_by_name()
    {
        var ex = Assert.Throws<UsageException>(() => ParsedArguments.Parse(["plugins", "--frob", "1"]));

        Assert.Contains("--frob", ex.Message, StringComparison.Ordinal);
        Assert.Equal("plugins", ex.Command);
    }

    [Fact]
    public void A_subcommand_reads_as_its_parent_with_an_argument()
    {
        var parsed = ParsedArguments.Parse(["cluster", "members", "--json", "--Plexus:Cluster:Join=h:1"]);

        Assert.Equal("cluster", parsed.Command);
        Assert.Equal(["members"], parsed.Positional);
        Assert.True(parsed.Has("json"));
        Assert.Equal(["--Plexus:Cluster:Join=h:1"], parsed.ConfigurationArgs);
    }

    [Fact]
    public void A_response_file_adds_its_arguments_and_overrides_and_data_at_a_file_stays_a_payload()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, ["# a comment", "call a/b/c", "--header \"k=v w\"", "--Plexus:Demo:MaxTokens=3"]);

            var parsed = ParsedArguments.Parse(["@" + file, "--data", "@payload.bin"]);

            Assert.Equal("call", parsed.Command);
            Assert.Equal(["a/b/c"], parsed.Positional);
            Assert.Equal(["k=v w"], parsed.Values("header"));
            Assert.Equal("@payload.bin", parsed.Value("data"));
            Assert.Equal(["--Plexus:Demo:MaxTokens=3"], parsed.ConfigurationArgs);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_unknown_command_is_named()
    {
        var ex = Assert.Throws<UsageException>(() => ParsedArguments.Parse(["bench", "--transport", "memory"]));

        Assert.Equal("Unknown command 'bench'.", ex.Message);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("00:00:03", 3000)]
    public void Durations_parse(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), DurationParser.Parse("timeout", text));

    [Theory]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("")]
    public void Bad_durations_name_the_option(string text)
    {
        var ex = Assert.Throws<UsageException>(() => DurationParser.Parse("timeout", text));
        Assert.Contains("--timeout", ex.Message, StringComparison.Ordinal);
    }
}
