using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Discovery;

/// <summary>Checks <see cref="FileDiscoveryOptions"/> at start so a bad value names its key instead of failing later.</summary>
internal sealed class FileDiscoveryOptionsValidator : IValidateOptions<FileDiscoveryOptions>
{
    internal static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxPollInterval = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, FileDiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string directoryKey = FileDiscoveryOptions.SectionName + ":Directory";
        const string pollKey = FileDiscoveryOptions.SectionName + ":PollInterval";

        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            failures.Add($"{directoryKey} is empty; set it to a directory every process on this machine can write, such as {Path.Combine(Path.GetTempPath(), "plexus", "discovery")}.");
        }
        else
        {
            try
            {
                var full = Path.GetFullPath(options.Directory);
                if (File.Exists(full))
                {
                    failures.Add($"{directoryKey} is '{options.Directory}', which is a file; point it at a directory.");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
            {
                failures.Add($"{directoryKey} is '{options.Directory}', which is not a usable path: {ex.Message}");
            }
        }

        if (options.PollInterval < MinPollInterval || options.PollInterval > MaxPollInterval)
        {
            failures.Add($"{pollKey} is {options.PollInterval}; set it between {MinPollInterval} and {MaxPollInterval}, such as 250ms.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
