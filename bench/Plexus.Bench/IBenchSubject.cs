namespace Plexus.Bench;

/// <summary>
/// Something measured: the transport under test or a baseline. Each runs its server and client in this process over
/// loopback, and answers every scenario with the same sizes (<see cref="BenchSizes"/>).
/// </summary>
internal interface IBenchSubject : IAsyncDisposable
{
    /// <summary>The name in the table and the JSON, such as <c>memory</c> or <c>raw-tcp</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Why the subject cannot carry the serving scenario (many concurrent streams on few connections), said in the
    /// output instead of a figure; null when it can, and it is then an <see cref="IServingSubject"/>.
    /// </summary>
    string? ServingUnsupported { get; }

    /// <summary>Starts the server side and whatever the client side needs before the first call.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Opens one unary caller (a connection where the subject cannot multiplex).</summary>
    ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken);

    /// <summary>Sends one stream request and reads every message of the answer, one at a time.</summary>
    /// <returns>How many messages arrived; the scenario expects <see cref="BenchSizes.StreamMessages"/>.</returns>
    ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken);

    /// <summary>Sends one 64 MiB payload and waits for the server's acknowledgement.</summary>
    /// <returns>How many bytes the server says it received.</returns>
    ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken);
}
