using Plexus.Host.Cli;

return await CommandRunner.RunAsync(args);
