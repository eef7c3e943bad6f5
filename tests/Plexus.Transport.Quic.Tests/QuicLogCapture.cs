using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Quic.Tests;

/// <summary>Collects formatted log lines, with their event names, so tests can check what was logged and why.</summary>
internal sealed class QuicLogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILoggerFactory Factory() => LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Debug));

    public ILogger CreateLogger(string categoryName) => new Logger(Lines);

    public void Dispose()
    {
    }

    /// <summary>Waits (bounded) for a line that contains <paramref name="text"/>, and returns it.</summary>
    public async Task<string> WaitForAsync(string text, TimeSpan within)
    {
        var giveUp = DateTime.UtcNow + within;
        do
        {
            if (Lines.FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal)) is { } found)
            {
                return found;
            }

            await Task.Delay(20);
        }
        while (DateTime.UtcNow < giveUp);

        Assert.Fail($"No log line contains '{text}'. Lines: {string.Join(" | ", Lines)}");
        return string.Empty;
    }

    private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {eventId.Name}: {formatter(state, exception)}");
    }
}
