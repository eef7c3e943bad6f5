using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.Composition;
using Plexus.Host.Hosting;

namespace Plexus.Host.Cli;

/// <summary>Runs one command of the host executable and turns every failure into an exit code and one clear message.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var stdout = Console.Out;
        var stderr = Console.Error;
        if (args.Length > 0 && args[0].StartsWith("[suggest", StringComparison.Ordinal))
        {
            // Shell completion: the suggest directive answers with the words that fit at the cursor.
            return await HostCommandLine.Build().Parse(args).InvokeAsync();
        }

        ParsedArguments parsed;
        try
        {
            parsed = ParsedArguments.Parse(args);
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}\n\n{Usage.For(ex.Command ?? string.Empty)}");
            return ExitCodes.Usage;
        }


        if (parsed.Command is "help" || parsed.Has("help") || parsed.Has("h"))
        {
            var topic = parsed.Command == "help"
                ? (parsed.Positional.Count > 0 ? parsed.Positional[0] : "")
                : (parsed.CommandGiven ? parsed.Command : "");
            await stdout.WriteLineAsync(Usage.For(topic));
            return ExitCodes.Ok;
        }

        try
        {
            return parsed.Command switch
            {
                "run" => await RunNodeAsync(parsed),
                "call" => await CallAsync(parsed),
                "plugins" => Plugins(parsed),
                "instances" => await InstancesAsync(parsed),
                "cluster" => await ClusterAsync(parsed),
                "completion" => Completion(parsed),
                _ => throw new UsageException($"Unknown command '{parsed.Command}'."),
            };
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync(ex.ShowUsage ? $"error: {ex.Message}\n\n{Usage.For(parsed.Command)}" : $"error: {ex.Message}");
            return ExitCodes.Usage;
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

    private static async Task<int> RunNodeAsync(ParsedArguments parsed)
    {
        parsed.Allow();
        if (parsed.Positional.Count > 0)
        {
            throw new UsageException($"'run' takes no arguments; got '{parsed.Positional[0]}'.");
        }

        using var host = PlexusHostFactory.Build([.. parsed.ConfigurationArgs], quiet: false);
        await host.RunAsync();
        return ExitCodes.Ok;
    }

    private static async Task<int> CallAsync(ParsedArguments parsed)
    {
        var request = CallCommand.Parse(parsed);

        // Registered before anything slow, so that SIGTERM or Ctrl+C at any point ends the call promptly.
        using var signals = new SignalCancellation();
        bool? serve = parsed.Has("no-serve") ? false : parsed.Has("serve") ? true : null;
        // With in-process discovery no other node can be found, so by default the caller serves its own endpoints.
        using var host = PlexusHostFactory.Build(
            [.. parsed.ConfigurationArgs],
            quiet: true,
            serve: configuration => serve ?? string.Equals(configuration["Plexus:Discovery:Provider"] ?? "memory", "memory", StringComparison.OrdinalIgnoreCase));
        var (limit, limitKey) = CallCommand.PayloadLimit(host.Services.GetRequiredService<IConfiguration>());
        var payload = CallCommand.ReadPayload(request.Data, Console.OpenStandardInput, limit, limitKey);
        int code;
        try
        {
            await host.StartAsync(signals.Token);
            using var stdout = Console.OpenStandardOutput();
            code = await CallCommand.RunAsync(host, request, payload, stdout, Console.Error, signals.Token);
        }
        catch (OperationCanceledException) when (signals.Received)
        {
            // The signal came while the host was starting, before the request was sent.
            await Console.Error.WriteLineAsync($"error: {PlexusErrorCode.Cancelled}: the call was cancelled by {signals.SignalName} before it was sent.");
            code = ExitCodes.RequestFailed;
        }

        // A cancelled stream has already told the server when RunAsync returns; stopping the host closes the connection.
        await host.StopAsync(CancellationToken.None);
        if (signals.Received && code != ExitCodes.Ok)
        {
            return signals.ExitCode;
        }

        return code;
    }

    private static int Plugins(ParsedArguments parsed)
    {
        parsed.Allow("json");
        using var host = PlexusHostFactory.Build([.. parsed.ConfigurationArgs], quiet: true, serve: static _ => false);
        return PluginsCommand.Run(host, parsed.Has("json"), Console.Out);
    }

    private static int Completion(ParsedArguments parsed)
    {
        Console.Out.Write(CompletionScript.Bash(Environment.ProcessPath ?? "dotnet", typeof(CommandRunner).Assembly.Location));
        return ExitCodes.Ok;
    }

    private static async Task<int> ClusterAsync(ParsedArguments parsed)
    {
        parsed.Allow("json");
        if (parsed.Positional.Count != 1)
        {
            throw new UsageException("'cluster' takes one action: 'token' or 'members'.");
        }

        using var signals = new SignalCancellation();
        using var host = PlexusHostFactory.Build([.. parsed.ConfigurationArgs], quiet: true, serve: static _ => false);
        return await ClusterCommand.RunAsync(host, parsed.Positional[0], parsed.Has("json"), Console.Out, signals.Token);
    }

    private static async Task<int> InstancesAsync(ParsedArguments parsed)
    {
        parsed.Allow("json");
        EndpointAddress? endpoint = null;
        if (parsed.Positional.Count > 1)
        {
            throw new UsageException("'instances' takes at most one endpoint.");
        }

        if (parsed.Positional.Count == 1)
        {
            endpoint = EndpointAddress.TryParse(parsed.Positional[0], out var e)
                ? e
                : throw new UsageException($"'{parsed.Positional[0]}' is not an endpoint: write namespace/component/endpoint.");
        }

        using var host = PlexusHostFactory.Build([.. parsed.ConfigurationArgs], quiet: true, serve: static _ => false);
        host.Services.GetRequiredService<PlexusComposition>().Validate();
        return await InstancesCommand.RunAsync(host, endpoint, parsed.Has("json"), Console.Out, CancellationToken.None);
    }
}
