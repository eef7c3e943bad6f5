using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Plexus.Host.Status;
using Plexus.Host.Telemetry;
using Plexus.Hosting;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.Hosting;

/// <summary>Builds the generic host every command runs in.</summary>
internal static class PlexusHostFactory
{
    private static void ConsoleFormat(SimpleConsoleFormatterOptions options)
    {
        options.SingleLine = true;
        options.TimestampFormat = "HH:mm:ss.fff ";
        options.IncludeScopes = false;
    }

    /// <param name="configurationArgs">Command-line configuration overrides, such as <c>--Plexus:RequestPlane:Transport=tcp</c>.</param>
    /// <param name="quiet">Log only warnings and errors, all to standard error, so that standard output carries data.</param>
    /// <param name="serve">Decides <c>Plexus:Server:Enabled</c> from the assembled configuration; null keeps the configured value.</param>
    public static IHost Build(string[] configurationArgs, bool quiet, Func<IConfiguration, bool>? serve = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = configurationArgs,
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "Plexus.Host",
        });

        if (quiet)
        {
            // Commands that print data are short-lived clients; the status server belongs to a running node.
            builder.Configuration.AddInMemoryCollection([new("Plexus:Status:Enabled", "false")]);
        }

        if (serve is not null)
        {
            var enabled = serve(builder.Configuration);
            builder.Configuration.AddInMemoryCollection([new("Plexus:Server:Enabled", enabled ? "true" : "false")]);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(ConsoleFormat);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = quiet ? LogLevel.Trace : LogLevel.Warning);
        if (quiet)
        {
            // A provider rule outranks the configuration's Default level, so appsettings cannot make a command chatty.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        }

        // A failed start is reported once, as one line naming the key or plugin, by the command runner. The provider
        // rule too, because in quiet mode the provider-wide rule above would outrank a rule without a provider.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter<ConsoleLoggerProvider>("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        if (quiet)
        {
            // Short-lived commands handle SIGINT and SIGTERM themselves (SignalCancellation); the console lifetime would
            // swallow both to stop a host that nothing waits on, leaving the command running.
            builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        }

        var drain = builder.Configuration.GetValue("Plexus:Server:DrainTimeout", TimeSpan.FromSeconds(30));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drain + TimeSpan.FromSeconds(5));

        DemoSettings.Apply(builder.Configuration);

        // Plugins load before the container exists, so they log through a factory of their own, formatted alike.
        using (var loggers = LoggerFactory.Create(b =>
        {
            b.AddConfiguration(builder.Configuration.GetSection("Logging"));
            b.AddSimpleConsole(ConsoleFormat);
            b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = quiet ? LogLevel.Trace : LogLevel.Warning);
            if (quiet)
            {
                b.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
            }
        }))
        {
            builder.Services.AddPlexusPlugins(builder.Configuration, loggers.CreateLogger("Plexus.Hosting.Plugins"));
        }

        builder.Services.AddPlexusRequestPlane(builder.Configuration);
        builder.Services.AddPlexusStatus(builder.Configuration);
        builder.Services.AddPlexusOtlp(builder.Configuration);
        return builder.Build();
    }
}
