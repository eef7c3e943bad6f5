namespace Plexus.Bench.Tests;

/// <summary>A subject that answers every scenario at once, with as many stream messages and bulk bytes as it is told.</summary>
internal sealed class FakeSubject(string name, long streamMessages = BenchSizes.StreamMessages, long bulkBytes = BenchSizes.BulkBytes) : IBenchSubject
{
    public string Name => name;

    public string? ServingUnsupported => "it is a fake";

    public int UnaryCallersOpened { get; private set; }

    public int UnaryCallersDisposed { get; private set; }

    // The runner opens and disposes callers from one loop, never concurrently.
    public void CallerDisposed() => UnaryCallersDisposed++;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken)
    {
        UnaryCallersOpened++;
        return ValueTask.FromResult<IUnaryCaller>(new FakeUnaryCaller(this));
    }

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        return streamMessages;
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        return bulkBytes;
    }

    public ValueTask DisposeAsync() => default;
}
