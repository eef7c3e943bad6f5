namespace Plexus.Transport.Tcp.Tests;

/// <summary>The send window: credit given back without the lock while others take and wait is never lost or doubled.</summary>
public sealed class CreditWindowTests
{
    [Fact(Timeout = 60_000)]
    public async Task TakersAndLockFreeReturns_ConserveCredit_AndNoWaiterIsLeftBehind()
    {
        // A window smaller than what the takers want at once, so that they queue while credit comes back.
        const int Window = 1_000;
        var window = new CreditWindow(Window);
        var workers = new Task[4];
        for (var w = 0; w < workers.Length; w++)
        {
            var seed = w;
            workers[w] = Task.Run(async () =>
            {
                var random = new Random(seed);
                for (var i = 0; i < 20_000; i++)
                {
                    var minimum = random.Next(1, 400);
                    var taken = await window.TakeAsync(minimum, minimum + random.Next(0, 400), CancellationToken.None);
                    Assert.InRange(taken, minimum, Window);
                    if (i % 3 == 0)
                    {
                        await Task.Yield();
                    }

                    if (i % 2 == 0)
                    {
                        window.Return(taken);
                    }
                    else
                    {
                        Assert.True(window.Add(taken));
                    }
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Window, window.Available);
    }

    [Fact(Timeout = 60_000)]
    public async Task CreditReturnedAsATakerStartsToWait_ReachesIt()
    {
        // The only credit there will be comes back at the moment the taker finds none: the taker must still get it.
        for (var round = 0; round < 5_000; round++)
        {
            var window = new CreditWindow(0);
            using var start = new Barrier(2);
            var returning = Task.Run(() =>
            {
                start.SignalAndWait();
                window.Return(1);
            });
            start.SignalAndWait();
            var taking = window.TakeAsync(1, 1, CancellationToken.None).AsTask();
            await returning;
            Assert.Equal(1, await taking.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task ClosedByAnEnd_MakesItsErrorOnlyForATakerAfterIt_AndOnlyOnce()
    {
        var window = new CreditWindow(100);
        var made = new List<Exception>();
        window.Close(static state => Make((List<Exception>)state), made);
        Assert.Empty(made);

        var first = await Assert.ThrowsAsync<PlexusException>(() => window.TakeAsync(1, 1, CancellationToken.None).AsTask());
        var second = await Assert.ThrowsAsync<PlexusException>(() => window.TakeAsync(1, 1, CancellationToken.None).AsTask());
        Assert.Same(made.Single(), first);
        Assert.Same(first, second);
        Assert.Equal("Stream 7 has ended.", first.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClosedByAnEnd_FailsTheWaitersWithTheErrorItMakes()
    {
        var window = new CreditWindow(0);
        var waiting = new[] { window.TakeAsync(1, 1, CancellationToken.None).AsTask(), window.TakeAsync(1, 1, CancellationToken.None).AsTask() };
        Assert.All(waiting, task => Assert.False(task.IsCompleted));

        var made = new List<Exception>();
        window.Close(static state => Make((List<Exception>)state), made);
        foreach (var task in waiting)
        {
            Assert.Same(made.Single(), await Assert.ThrowsAsync<PlexusException>(() => task.WaitAsync(TimeSpan.FromSeconds(10))));
        }
    }

    [Fact]
    public void TakingReturningAndEnding_WithNobodyWaiting_AllocateNothing()
    {
        // Asserts allocate, so none runs between the readings.
        static int Use(CreditWindow window)
        {
            var taking = window.TakeAsync(10, 10, CancellationToken.None);
            var taken = taking.IsCompletedSuccessfully ? taking.Result : -1;
            window.Return(taken);
            window.Close(static _ => new InvalidOperationException("never made"), window);
            return taken;
        }

        // Once first, so that the runtime's own first-use costs (the cached lambda) are behind.
        Use(new CreditWindow(100));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var window = new CreditWindow(100);
        var created = GC.GetAllocatedBytesForCurrentThread() - before;
        var taken = Use(window);
        var used = GC.GetAllocatedBytesForCurrentThread() - before;

        // Taking, returning and ending with nobody waiting cost nothing beyond the window itself: no error is made
        // for an end nobody hears of.
        Assert.Equal(10, taken);
        Assert.Equal(100, window.Available);
        Assert.Equal(created, used);
    }

    private static PlexusException Make(List<Exception> made)
    {
        var error = PlexusException.Unavailable("Stream 7 has ended.");
        made.Add(error);
        return error;
    }
}
