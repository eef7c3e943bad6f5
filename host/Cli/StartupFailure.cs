using Microsoft.Extensions.Options;
using Plexus.Hosting.Composition;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.Cli;

/// <summary>
/// What every tool of the project prints, and with which exit code, when the request plane cannot start: a required
/// plugin failed, or the configuration is invalid (one line per problem, naming the key).
/// </summary>
internal static class StartupFailure
{
    /// <summary>Describes a start-up failure, or says it is not one.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <param name="lines">The lines to print on standard error.</param>
    /// <param name="exitCode">The exit code that goes with them.</param>
    /// <returns>Whether <paramref name="exception"/> is a start-up failure.</returns>
    public static bool TryDescribe(Exception exception, out List<string> lines, out int exitCode)
    {
        lines = [];
        exitCode = ExitCodes.Configuration;
        switch (exception)
        {
            case PluginLoadException plugin:
                lines.Add(plugin.Message);
                exitCode = ExitCodes.PluginFailed;
                return true;
            case PlexusConfigurationException configuration:
                lines.Add($"Configuration error: {configuration.Message}");
                return true;
            case OptionsValidationException validation:
                AddFailures(lines, validation);
                return true;
            case AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException):
                // The host's start-up validation throws them together when more than one section is invalid.
                foreach (var inner in aggregate.InnerExceptions)
                {
                    AddFailures(lines, (OptionsValidationException)inner);
                }

                return true;
            case InvalidOperationException binding when ConfigurationBindingError.TryDescribe(binding, out var line):
                lines.Add($"Configuration error: {line}");
                return true;
            default:
                return false;
        }
    }

    private static void AddFailures(List<string> lines, OptionsValidationException validation)
    {
        foreach (var failure in validation.Failures)
        {
            lines.Add($"Configuration error: {failure}");
        }
    }
}
