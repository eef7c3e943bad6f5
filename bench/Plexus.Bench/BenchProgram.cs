using Plexus.Host.Cli;

namespace Plexus.Bench;

/// <summary>Runs the bench from its command line and turns every failure into an exit code and one clear message.</summary>
internal static class BenchProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        var stderr = Console.Error;
        try
        {
            var parsed = BenchArguments.Parse(args);
            if (parsed.WantsHelp)
            {
                await Console.Out.WriteLineAsync(BenchUsage.Text);
                return ExitCodes.Ok;
            }

            var options = BenchOptions.Parse(parsed);

            // Registered before the plugins load, so that SIGINT or SIGTERM at any point ends the run promptly.
            using var signals = new SignalCancellation();
            try
            {
                using var stdout = Console.OpenStandardOutput();
                var interactive = !options.Json && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
                return await BenchCommand.RunAsync(options, parsed.ConfigurationArgs, stdout, stderr, signals.Token, interactive);
            }
            catch (OperationCanceledException) when (signals.Received)
            {
                await stderr.WriteLineAsync($"error: bench: cancelled by {signals.SignalName}.");
                return signals.ExitCode;
            }
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}\n\n{BenchUsage.Text}");
            return ExitCodes.Usage;
        }
        catch (BenchFailedException ex)
        {
            await stderr.WriteLineAsync($"error: bench: {ex.Message}");
            return ExitCodes.RequestFailed;
        }
        catch (Exception ex) when (StartupFailure.TryDescribe(ex, out var lines, out var exitCode))
        {
            foreach (var line in lines)
            {
                await stderr.WriteLineAsync(line);
            }

            return exitCode;
        }
    }
}
