using Microsoft.Extensions.Configuration;
using Plexus.Hosting.Configuration;

namespace Plexus.Host.Tests.Configuration;

/// <summary><c>Plexus:RequestPlane:Transports</c> and the older single <c>Transport</c>, read as one setting across sources.</summary>
public sealed class TransportSelectionTests
{
    private static IConfigurationRoot Sources(params Dictionary<string, string?>[] layers)
    {
        var builder = new ConfigurationBuilder();
        foreach (var layer in layers)
        {
            builder.AddInMemoryCollection(layer);
        }

        return builder.Build();
    }

    [Fact]
    public void A_list_in_a_later_source_replaces_a_single_name_in_an_earlier_one_without_conflict()
    {
        var configuration = Sources(
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transport"] = "tcp" },
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transports:0"] = "quic", ["Plexus:RequestPlane:Transports:1"] = "tcp" });

        var selection = TransportSelection.Read(configuration)!;

        Assert.Equal(["quic", "tcp"], selection.Names);
        Assert.Equal("Plexus:RequestPlane:Transports", selection.Key);
        Assert.Null(selection.Conflict);
    }

    [Fact]
    public void A_single_name_in_a_later_source_replaces_a_list_in_an_earlier_one_and_lists_are_never_merged()
    {
        var configuration = Sources(
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transports:0"] = "tcp", ["Plexus:RequestPlane:Transports:1"] = "quic" },
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transport"] = "nats" });
        Assert.Equal(["nats"], TransportSelection.Read(configuration)!.Names);

        // Bound entry by entry, [tcp, quic] under [nats] would have become [nats, quic]; the later source's list stands alone.
        var overList = Sources(
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transports:0"] = "tcp", ["Plexus:RequestPlane:Transports:1"] = "quic" },
            new Dictionary<string, string?> { ["Plexus:RequestPlane:Transports:0"] = "nats" });
        Assert.Equal(["nats"], TransportSelection.Read(overList)!.Names);
    }

    [Fact]
    public void One_comma_separated_value_is_a_list_as_the_command_line_writes_it()
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(["--Plexus:RequestPlane:Transports=tcp, quic,nats"]).Build();

        Assert.Equal(["tcp", "quic", "nats"], TransportSelection.Read(configuration)!.Names);
    }

    [Fact]
    public void Entries_keep_their_numeric_order_past_nine()
    {
        var layer = new Dictionary<string, string?>();
        for (var i = 0; i < 12; i++)
        {
            layer[$"Plexus:RequestPlane:Transports:{i}"] = $"t{i}";
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"t{i}"), TransportSelection.Read(Sources(layer))!.Names);
    }

    [Fact]
    public void Environment_variables_name_the_list_with_double_underscores()
    {
        Environment.SetEnvironmentVariable("PLEXUSTEST_Plexus__RequestPlane__Transports__0", "quic");
        Environment.SetEnvironmentVariable("PLEXUSTEST_Plexus__RequestPlane__Transports__1", "tcp");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables("PLEXUSTEST_").Build();
            Assert.Equal(["quic", "tcp"], TransportSelection.Read(configuration)!.Names);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PLEXUSTEST_Plexus__RequestPlane__Transports__0", null);
            Environment.SetEnvironmentVariable("PLEXUSTEST_Plexus__RequestPlane__Transports__1", null);
        }
    }

    [Fact]
    public void Both_keys_set_differently_in_one_source_are_a_conflict_the_validator_reports()
    {
        var configuration = Sources(new Dictionary<string, string?> { ["Plexus:RequestPlane:Transport"] = "tcp", ["Plexus:RequestPlane:Transports"] = "quic,nats" });
        var selection = TransportSelection.Read(configuration)!;
        Assert.NotNull(selection.Conflict);

        var options = new PlexusOptions();
        options.RequestPlane.Selection = selection;
        var result = new PlexusOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Plexus:RequestPlane:Transport ('tcp') and Plexus:RequestPlane:Transports (quic, nats) are both set", failure, StringComparison.Ordinal);
        Assert.Contains("keep one of them", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_keys_agreeing_in_one_source_are_accepted()
    {
        var configuration = Sources(new Dictionary<string, string?> { ["Plexus:RequestPlane:Transport"] = "tcp", ["Plexus:RequestPlane:Transports:0"] = "tcp" });

        var selection = TransportSelection.Read(configuration)!;

        Assert.Null(selection.Conflict);
        Assert.Equal(["tcp"], selection.Names);
    }

    [Fact]
    public void Without_either_key_the_bound_default_applies()
    {
        Assert.Null(TransportSelection.Read(Sources(new Dictionary<string, string?> { ["Plexus:RequestPlane:Codec"] = "twopart" })));
        Assert.Equal(["memory"], new PlexusOptions().RequestPlane.ServingTransports);
    }

    [Theory]
    [InlineData("tcp,tcp", "names 'tcp' twice")]
    [InlineData("tcp,,quic", "has an empty entry (number 2 of 3)")]
    public void A_bad_list_is_refused_naming_the_key(string list, string expected)
    {
        var options = new PlexusOptions();
        options.RequestPlane.Selection = TransportSelection.Read(Sources(new Dictionary<string, string?> { ["Plexus:RequestPlane:Transports"] = list }));

        var result = new PlexusOptionsValidator().Validate(null, options);

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Plexus:RequestPlane:Transports ", failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }
}
