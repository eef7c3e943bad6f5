using Microsoft.Extensions.Time.Testing;
using Plexus.Router.Affinity.Tests.Support;

namespace Plexus.Router.Affinity.Tests;

public sealed class HashRingTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(50, 64)]
    public void A_lookup_finds_the_first_point_at_or_after_the_hash_wrapping_past_the_last(int instances, int points)
    {
        var known = new KnownInstances();
        known.Refresh(Routers.Candidates(Routers.Instances(instances)), new FakeTimeProvider(), TimeSpan.FromSeconds(30));
        var ring = new HashRing();
        ring.Build(known, points);

        var all = new List<(ulong Point, int Slot)>();
        for (var slot = 0; slot < known.SlotLimit; slot++)
        {
            if (known.InUse(slot))
            {
                for (var replica = 0; replica < points; replica++)
                {
                    all.Add((HashMix.Point(known.IdOf(slot), replica), slot));
                }
            }
        }

        all.Sort((a, b) => a.Point.CompareTo(b.Point));
        Assert.Equal(all.Count, ring.Length);
        var random = new Random(3);
        for (var i = 0; i < 5_000; i++)
        {
            var hash = i switch { 0 => 0UL, 1 => ulong.MaxValue, 2 => all[^1].Point, 3 => all[0].Point, _ => (ulong)random.NextInt64() * 2 + (ulong)(i & 1) };
            var expected = all.FindIndex(p => p.Point >= hash);
            Assert.Equal(all[expected < 0 ? 0 : expected].Slot, ring.SlotAt(ring.Find(hash)));
        }
    }
}
