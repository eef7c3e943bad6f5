using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Plexus.Service.Demo.Tests;

public sealed class DemoPluginTests
{
    private static IOptions<DemoOptions> Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var services = new ServiceCollection();
        new DemoPlugin().ConfigureServices(services, configuration);
        return services.BuildServiceProvider().GetRequiredService<IOptions<DemoOptions>>();
    }

    [Fact]
    public void The_entry_binds_the_plexus_demo_section()
    {
        var options = Bind(("Plexus:Demo:MaxTokens", "3"), ("Plexus:Demo:TokenDelay", "00:00:00.005"));

        Assert.Equal(3, options.Value.MaxTokens);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.Value.TokenDelay);
    }

    [Theory]
    [InlineData("Plexus:Demo:MaxTokens", "-1")]
    [InlineData("Plexus:Demo:TokenDelay", "00:01:00")]
    public void Values_out_of_range_are_refused_naming_the_key(string key, string value)
    {
        var options = Bind((key, value));

        var ex = Assert.Throws<OptionsValidationException>(() => options.Value);

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_three_handlers_are_marked_with_their_endpoints()
    {
        var marked = typeof(DemoPlugin).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<PlexusEndpointAttribute>().Select(a => (a.Endpoint, t)))
            .OrderBy(m => m.Endpoint, StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(
            [("demo/echo/echo", typeof(EchoHandler)), ("demo/echo/generate", typeof(GenerateHandler)), ("demo/echo/relay", typeof(RelayHandler))],
            marked);
        Assert.All(marked, m => Assert.True(typeof(IEndpointHandler).IsAssignableFrom(m.t)));
    }
}
