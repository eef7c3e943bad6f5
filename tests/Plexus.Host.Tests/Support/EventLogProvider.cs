using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Plexus.Host.Tests.Support;

/// <summary>Keeps every log entry of every category with its event id, so tests can check which events were logged.</summary>
internal sealed class EventLogProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, int EventId, LogLevel Level, string Message);

    private sealed class Logger(EventLogProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, eventId.Id, logLevel, formatter(state, exception)));
    }
}
