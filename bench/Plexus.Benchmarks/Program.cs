using BenchmarkDotNet.Running;

// Every benchmark class of this assembly; pick with --filter, e.g. --filter '*Crc32C*' --job short.
BenchmarkSwitcher.FromAssembly(typeof(Plexus.Benchmarks.Crc32CBenchmarks).Assembly).Run(args);
