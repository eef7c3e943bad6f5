using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>Collects log lines (formatted) so tests can check that a refusal was logged with its reason.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILoggerFactory Factory() => LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Debug));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    /// <summary>Waits (bounded) for a line containing <paramref name="text"/>.</summary>
    public async Task<string> WaitForAsync(string text, TimeSpan within)
    {
        var giveUp = DateTime.UtcNow + within;
        while (DateTime.UtcNow < giveUp)
        {
            foreach (var line in Lines)
            {
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    return line;
                }
            }

            await Task.Delay(20);
        }

        Assert.Fail($"No log line contains '{text}'. Lines: {string.Join(" | ", Lines)}");
        return string.Empty;
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel} {eventId.Name}: {formatter(state, exception)}");
    }
}
