using Plexus.Bench;

return await BenchProgram.RunAsync(args);
