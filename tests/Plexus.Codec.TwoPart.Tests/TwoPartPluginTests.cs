using System.Buffers;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Codec.TwoPart.Tests;

/// <summary>The plugin as the host sees it: its name, its entry's settings, and the codec its scan would find.</summary>
public sealed class TwoPartPluginTests
{
    [Fact]
    public void The_assembly_is_the_twopart_plugin()
    {
        var attribute = typeof(TwoPartCodec).Assembly.GetCustomAttribute<PlexusPluginAttribute>();

        Assert.NotNull(attribute);
        Assert.Equal("twopart", attribute.Name);
    }

    [Fact]
    public void The_codec_is_named_twopart_with_checksum_off_by_default()
    {
        using var provider = Build(new Dictionary<string, string?>());

        var codec = provider.GetRequiredService<TwoPartCodec>();
        Assert.Equal("twopart", codec.Name);
        Assert.False(provider.GetRequiredService<IOptions<TwoPartCodecOptions>>().Value.Checksum);
        Assert.Equal(0u, WrittenFlags(codec));
    }

    [Fact]
    public void Binds_checksum_from_the_twopart_section()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Plexus:Codecs:TwoPart:Checksum"] = "true" });

        Assert.Equal(TwoPartCodec.ChecksumFlag, WrittenFlags(provider.GetRequiredService<TwoPartCodec>()));
    }

    [Fact]
    public void The_entry_leaves_the_codec_to_the_hosts_scan()
    {
        // Registered as IFrameCodec here, the codec would bypass the plugin catalog, which turns a failing
        // constructor into a failed plugin and tells the composition which plugin provides which codec.
        var services = new ServiceCollection();
        new TwoPartPlugin().ConfigureServices(services, new ConfigurationBuilder().Build());

        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IFrameCodec) || d.ServiceType == typeof(TwoPartCodec));
        Assert.Contains(services, d => d.ServiceType == typeof(IConfigureOptions<TwoPartCodecOptions>));
    }

    [Fact]
    public void A_bad_value_fails_at_start_naming_the_key()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Plexus:Codecs:TwoPart:Checksum"] = "maybe" });

        var error = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Plexus:Codecs:TwoPart:Checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_fails_at_start_naming_it()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Plexus:Codecs:TwoPart:Checksumm"] = "true" });

        var error = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Checksumm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_settings_pass_the_start_check()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Plexus:Codecs:TwoPart:Checksum"] = "false" });

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.False(provider.GetRequiredService<IOptions<TwoPartCodecOptions>>().Value.Checksum);
    }

    /// <summary>What the host does with the plugin: runs its entry and registers the scanned codec as its own type.</summary>
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        new TwoPartPlugin().ConfigureServices(services, configuration);
        services.AddSingleton<TwoPartCodec>();
        return services.BuildServiceProvider();
    }

    private static uint WrittenFlags(IFrameCodec codec)
    {
        var output = new ArrayBufferWriter<byte>();
        codec.Write([1, 2], new ReadOnlySequence<byte>([3]), output);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(output.WrittenSpan[8..]);
    }
}
