using Plexus.Host.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Plexus.Hosting.Composition;

namespace Plexus.Bench;

/// <summary>
/// The generic host a run finds its transports in: the library loads the plugins beside the bench (and those in
/// <c>Plexus:Plugins:Paths</c>) and composes them. It is only built, never started: no discovery, no router, no
/// node serving.
/// </summary>
internal static class BenchHost
{
    /// <summary>
    /// Settings under everything else (appsettings.json, environment, command line). The bench only runs over loopback,
    /// so the tcp and quic transports listen on a free loopback port instead of their defaults 0.0.0.0:7400 and
    /// 0.0.0.0:7500 (UDP).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        ["Plexus:Transports:Tcp:Bind"] = "127.0.0.1:0",
        ["Plexus:Transports:Quic:Bind"] = "127.0.0.1:0",
    };

    private static void ConsoleFormat(SimpleConsoleFormatterOptions options)
    {
        options.SingleLine = true;
        options.TimestampFormat = "HH:mm:ss.fff ";
        options.IncludeScopes = false;
    }

    /// <param name="configurationArgs">Command-line configuration overrides, such as <c>--Plexus:Transports:Nats:Url=...</c>.</param>
    /// <param name="runDefaults">Settings this run needs, over <see cref="Defaults"/> and under everything else.</param>
    /// <exception cref="Plexus.Hosting.Plugins.PluginLoadException">A required plugin failed to load.</exception>
    public static IHost Build(IReadOnlyList<string> configurationArgs, IReadOnlyDictionary<string, string?>? runDefaults = null)
    {
        ArgumentNullException.ThrowIfNull(configurationArgs);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. configurationArgs],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "Plexus.Bench",
        });
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        if (runDefaults is { Count: > 0 })
        {
            builder.Configuration.Sources.Insert(1, new MemoryConfigurationSource { InitialData = runDefaults });
        }

        UseBenchLogging(builder);

        // Plugins load before the container exists, so they log through a factory of their own, formatted alike.
        using (var loggers = LoggerFactory.Create(b =>
        {
            b.AddConfiguration(builder.Configuration.GetSection("Logging"));
            b.AddSimpleConsole(ConsoleFormat);
            b.Services.Configure<ConsoleLoggerOptions>(static o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            b.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        }))
        {
            builder.Services.AddPlexus(builder.Configuration, loggers);
        }

        return builder.Build();
    }

    /// <summary>
    /// Standard output carries the table or the JSON alone; whatever a host of the bench logs goes to standard error,
    /// and only warnings and errors, whatever the configuration's levels say.
    /// </summary>
    public static void UseBenchLogging(HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(ConsoleFormat);
        builder.Services.Configure<ConsoleLoggerOptions>(static o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
    }

    /// <summary>The configuration the host was built with, for settings the bench reads itself.</summary>
    public static IConfiguration Configuration(IHost host) => host.Services.GetRequiredService<IConfiguration>();

    /// <summary>The loaded transport of that name.</summary>
    /// <param name="host">The built host.</param>
    /// <param name="name">The transport's name.</param>
    /// <param name="option">The option that named it, for the message: <c>--transport</c>, or <c>--baseline</c> for the tcp baseline.</param>
    /// <exception cref="UsageException">No loaded transport has that name; the message lists those that are loaded.</exception>
    public static ITransportFactory FindTransport(IHost host, string name, string option = "--transport")
    {
        ArgumentNullException.ThrowIfNull(host);
        var transports = host.Services.GetRequiredService<PlexusComposition>().Transports;
        if (!transports.TryGet(name, out var factory))
        {
            var loaded = transports.Names.Count == 0 ? "none is loaded" : "loaded: " + string.Join(", ", transports.Names);
            var fix = option == "--transport" ? "name one of those, or add" : "leave the baseline out, or add";
            throw new UsageException($"{option} '{name}': no transport of that name is loaded ({loaded}). Fix: {fix} the plugin that provides it to the plugins folder.");
        }

        return factory;
    }
}
