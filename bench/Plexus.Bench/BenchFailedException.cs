namespace Plexus.Bench;

/// <summary>A measurement could not be completed: a subject answered wrongly, failed, or did not finish in time.</summary>
internal sealed class BenchFailedException : Exception
{
    public BenchFailedException(string message)
        : base(message)
    {
    }

    public BenchFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
