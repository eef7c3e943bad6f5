using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Discovery;

namespace Plexus.Host.Tests.Discovery;

public sealed class DiscoveryServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection>? before = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        before?.Invoke(services);
        services.AddEmbeddedDiscovery(configuration);
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public void Registers_both_providers_once_each_even_when_called_twice()
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection();
        services.AddEmbeddedDiscovery(configuration);
        services.AddEmbeddedDiscovery(configuration);
        using var provider = services.BuildServiceProvider();

        var names = provider.GetServices<IDiscoveryProvider>().Select(p => p.Name).Order().ToList();

        Assert.Equal(["file", "memory"], names);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void Binds_file_settings_from_Plexus_Discovery_File()
    {
        using var provider = Build(new()
        {
            ["Plexus:Discovery:File:Directory"] = "/var/tmp/plexus-shared",
            ["Plexus:Discovery:File:PollInterval"] = "00:00:00.100",
        });

        var options = provider.GetRequiredService<IOptions<FileDiscoveryOptions>>().Value;
        Assert.Equal("/var/tmp/plexus-shared", options.Directory);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.PollInterval);
        var file = (FileDiscoveryProvider)provider.GetServices<IDiscoveryProvider>().Single(p => p.Name == "file");
        Assert.Equal(Path.GetFullPath("/var/tmp/plexus-shared"), file.RootDirectory);
    }

    [Fact]
    public void Defaults_to_a_folder_under_temp_and_a_quarter_second_poll()
    {
        using var provider = Build([]);
        provider.GetRequiredService<IStartupValidator>().Validate();

        var options = provider.GetRequiredService<IOptions<FileDiscoveryOptions>>().Value;
        Assert.Equal(Path.Combine(Path.GetTempPath(), "plexus", "discovery"), options.Directory);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.PollInterval);
    }

    [Theory]
    [InlineData("Plexus:Discovery:File:Directory", " ", "Plexus:Discovery:File:Directory")]
    [InlineData("Plexus:Discovery:File:PollInterval", "00:00:00.001", "Plexus:Discovery:File:PollInterval")]
    [InlineData("Plexus:Discovery:File:PollInterval", "10m", "Plexus:Discovery:File:PollInterval")]
    public void Bad_settings_fail_at_start_naming_the_key(string key, string value, string named)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_poll_interval_without_a_unit_is_refused_naming_the_key_not_read_as_days()
    {
        using var provider = Build(new() { ["Plexus:Discovery:File:PollInterval"] = "250" });

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Plexus:Discovery:File:PollInterval", error.Message, StringComparison.Ordinal);
        Assert.Contains("has no unit", Assert.IsType<FormatException>(error.InnerException).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_poll_interval_with_a_unit_is_read()
    {
        using var provider = Build(new() { ["Plexus:Discovery:File:PollInterval"] = "100ms" });

        Assert.Equal(TimeSpan.FromMilliseconds(100), provider.GetRequiredService<IOptions<FileDiscoveryOptions>>().Value.PollInterval);
    }

    [Fact]
    public void A_directory_that_is_a_file_is_rejected_naming_the_key()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var provider = Build(new() { ["Plexus:Discovery:File:Directory"] = path });
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains("Plexus:Discovery:File:Directory", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_time_provider_registered_earlier_is_kept_and_drives_the_memory_provider()
    {
        var clock = new ManualTimeProvider();
        using var provider = Build([], services => services.AddSingleton<TimeProvider>(clock));
        var memory = provider.GetServices<IDiscoveryProvider>().Single(p => p.Name == "memory");

        var instance = new Instance(new EndpointAddress("a", "b", "c"), new InstanceId(1), "tcp", new Uri("tcp://127.0.0.1:1"));
        await using var lease = await memory.RegisterAsync(instance, TimeSpan.FromSeconds(5), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(6));

        Assert.Same(clock, provider.GetRequiredService<TimeProvider>());
        Assert.Empty(await memory.ListAsync(null, CancellationToken.None));
    }
}
