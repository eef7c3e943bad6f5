using System.Buffers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Codecs;

namespace Plexus.Host.Tests.Codecs;

public sealed class CodecRegistrationTests
{
    [Fact]
    public void Registers_twopart_as_a_frame_codec_with_checksum_off_by_default()
    {
        using var provider = Build(new Dictionary<string, string?>());

        var codec = Assert.Single(provider.GetServices<IFrameCodec>());
        Assert.IsType<TwoPartCodec>(codec);
        Assert.Equal("twopart", codec.Name);
        Assert.False(provider.GetRequiredService<IOptions<TwoPartCodecOptions>>().Value.Checksum);
        Assert.Equal(0u, WrittenFlags(codec));
    }

    [Fact]
    public void Binds_checksum_from_the_twopart_section()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Plexus:Codecs:TwoPart:Checksum"] = "true" });

        var codec = Assert.Single(provider.GetServices<IFrameCodec>());
        Assert.Equal(TwoPartCodec.ChecksumFlag, WrittenFlags(codec));
    }

    [Fact]
    public void Adding_twice_registers_one_codec()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        services.AddTwoPartCodec(configuration).AddTwoPartCodec(configuration);

        using var provider = services.BuildServiceProvider();
        Assert.Single(provider.GetServices<IFrameCodec>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_codec_registered_beside_twopart_is_resolvable_by_name(bool pluginFirst)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        if (pluginFirst)
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameCodec, NamedTestCodec>());
        }

        services.AddTwoPartCodec(configuration);
        if (!pluginFirst)
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameCodec, NamedTestCodec>());
        }

        using var provider = services.BuildServiceProvider();
        var codecs = provider.GetServices<IFrameCodec>().ToList();

        Assert.Equal(2, codecs.Count);
        Assert.IsType<NamedTestCodec>(Assert.Single(codecs, c => c.Name == "test-codec"));
        Assert.IsType<TwoPartCodec>(Assert.Single(codecs, c => c.Name == "twopart"));
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

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddTwoPartCodec(configuration).BuildServiceProvider();
    }

    private static uint WrittenFlags(IFrameCodec codec)
    {
        var output = new ArrayBufferWriter<byte>();
        codec.Write([1, 2], new ReadOnlySequence<byte>([3]), output);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(output.WrittenSpan[8..]);
    }
}
