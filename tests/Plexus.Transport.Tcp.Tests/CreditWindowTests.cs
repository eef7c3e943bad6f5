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
}
