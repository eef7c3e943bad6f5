namespace Plexus.Host.Tests.Routing;

/// <summary>A random source that fails the test if a strategy draws from it.</summary>
internal sealed class NoDrawRandom : Random
{
    public override int Next() => throw new InvalidOperationException("The strategy drew a random number.");

    public override int Next(int maxValue) => throw new InvalidOperationException("The strategy drew a random number.");

    public override int Next(int minValue, int maxValue) => throw new InvalidOperationException("The strategy drew a random number.");

    public override double NextDouble() => throw new InvalidOperationException("The strategy drew a random number.");
}
