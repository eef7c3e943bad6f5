namespace Plexus.Bench.Tests;

/// <summary>A unary caller of <see cref="FakeSubject"/> that answers at once (after a yield, as a real call would).</summary>
internal sealed class FakeUnaryCaller(FakeSubject owner) : IUnaryCaller
{
    public async ValueTask CallAsync(CancellationToken cancellationToken) => await Task.Yield();

    public ValueTask DisposeAsync()
    {
        owner.CallerDisposed();
        return default;
    }
}
