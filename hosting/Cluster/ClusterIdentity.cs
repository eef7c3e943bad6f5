namespace Plexus.Hosting.Cluster;

/// <summary>
/// The host's <see cref="IClusterIdentity"/>: set by <see cref="ClusterNode"/> when the node joined (or, on the seed,
/// issued its own certificate), replaced on every renewal.
/// </summary>
internal sealed class ClusterIdentity : IClusterIdentity
{
    private readonly TaskCompletionSource<ClusterCertificate> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClusterCertificate? _current;

    public ClusterIdentity(Microsoft.Extensions.Options.IOptions<ClusterOptions> options)
    {
        IsConfigured = options.Value.IsConfigured;
        if (!IsConfigured)
        {
            _first.TrySetException(new PlexusException(
                PlexusErrorCode.Unavailable,
                "This node is not in a cluster, so it has no cluster certificate (Tls:Mode=cluster needs one): set Plexus:Cluster:Seed=true on the seed, or Plexus:Cluster:Join=<seed address> and Plexus:Cluster:Token on the other nodes."));
        }
    }

    public bool IsConfigured { get; }

    public ClusterCertificate? Current => Volatile.Read(ref _current);

    public event EventHandler? Changed;

    public ValueTask<ClusterCertificate> WaitAsync(CancellationToken cancellationToken) =>
        Current is { } current ? ValueTask.FromResult(current) : new ValueTask<ClusterCertificate>(_first.Task.WaitAsync(cancellationToken));

    /// <summary>Installs a new certificate; the first one releases every waiter, later ones raise <see cref="Changed"/>.</summary>
    public void Set(ClusterCertificate certificate)
    {
        var previous = Interlocked.Exchange(ref _current, certificate);
        if (previous is null)
        {
            _first.TrySetResult(certificate);
            return;
        }

        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Joining failed for good: waiters get the reason.</summary>
    public void Fail(PlexusException reason) => _first.TrySetException(reason);
}
