using Microsoft.Extensions.Configuration;

namespace Plexus.Router.Affinity.Tests;

public sealed class OptionsAndBlocksTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(new AffinityRouterOptions().Validate());
    }

    [Theory]
    [InlineData("LoadBound", 0d)]
    [InlineData("LoadBound", double.NaN)]
    [InlineData("VirtualNodes", 0d)]
    [InlineData("OverlapWeight", -1d)]
    [InlineData("LoadWeight", double.PositiveInfinity)]
    [InlineData("MaxRequestBlocks", 0d)]
    [InlineData("DropAfter", 0d)]
    public void Each_bad_value_is_refused_naming_its_key(string key, double value)
    {
        var options = new AffinityRouterOptions();
        switch (key)
        {
            case "LoadBound": options.LoadBound = value; break;
            case "VirtualNodes": options.VirtualNodes = (int)value; break;
            case "OverlapWeight": options.OverlapWeight = value; break;
            case "LoadWeight": options.LoadWeight = value; break;
            case "MaxRequestBlocks": options.MaxRequestBlocks = (int)value; break;
            default: options.DropAfter = TimeSpan.FromSeconds(value); break;
        }

        var error = Assert.Single(options.Validate());
        Assert.StartsWith($"Plexus:Routers:Affinity:{key} ", error, StringComparison.Ordinal);
        Assert.True(new AffinityRouterOptionsValidator().Validate(null, options).Failed);
    }

    [Fact]
    public void An_unknown_key_is_refused_naming_it()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Plexus:Routers:Affinity:LoadBond"] = "1", ["Plexus:Routers:Affinity:VirtualNodes"] = "8" })
            .Build();
        var validator = new AffinityRouterOptionsValidator(configuration.GetSection(AffinityRouterOptions.SectionName));

        var result = validator.Validate(null, new AffinityRouterOptions());

        var error = Assert.Single(result.Failures!);
        Assert.StartsWith("Plexus:Routers:Affinity:LoadBond is not a setting of the affinity router", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Block_hashes_round_trip_through_the_header_format()
    {
        ulong[] blocks = [0, 1, 0xdeadbeef, ulong.MaxValue];
        var text = PrefixBlocks.Format(blocks);
        Assert.Equal("0000000000000000,0000000000000001,00000000deadbeef,ffffffffffffffff", text);

        var read = new ulong[8];
        Assert.Equal(4, PrefixBlocks.Parse(text, read, out var malformed));
        Assert.False(malformed);
        Assert.Equal(blocks, read[..4]);

        // Spaces and empty entries are tolerated; a full destination stops the reading without complaint.
        Assert.Equal(2, PrefixBlocks.Parse(" a , ,B ", read, out malformed));
        Assert.Equal([0xaUL, 0xbUL], read[..2]);
        Assert.Equal(1, PrefixBlocks.Parse(text, read.AsSpan(0, 1), out malformed));
        Assert.False(malformed);
        Assert.Equal(1, PrefixBlocks.Parse("1,12345678901234567,3", read, out malformed));
        Assert.True(malformed);
    }

    [Fact]
    public void A_block_hash_names_its_whole_prefix()
    {
        var content = "the same block"u8.ToArray();
        var first = PrefixBlocks.Chain(0, content);

        Assert.Equal(first, PrefixBlocks.Chain(0, content));
        Assert.NotEqual(first, PrefixBlocks.Chain(1, content));
        Assert.NotEqual(PrefixBlocks.Chain(first, content), PrefixBlocks.Chain(PrefixBlocks.Chain(0, "another"u8), content));
    }
}
