namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// An <see cref="IClusterIdentity"/> standing in for the host's cluster component: its certificate is what the test
/// sets, and <see cref="Renew"/> swaps it and raises <see cref="Changed"/> as a renewal does. Shared with the QUIC tests.
/// </summary>
internal sealed class TestClusterIdentity : IClusterIdentity
{
    private readonly TaskCompletionSource<ClusterCertificate> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClusterCertificate? _current;

    public TestClusterIdentity(ClusterCertificate? current, bool configured = true)
    {
        IsConfigured = configured;
        if (current is not null)
        {
            _current = current;
            _first.SetResult(current);
        }
    }

    public event EventHandler? Changed;

    public bool IsConfigured { get; }

    public ClusterCertificate? Current => Volatile.Read(ref _current);

    /// <summary>Replaces the certificate and raises <see cref="Changed"/>.</summary>
    public void Renew(ClusterCertificate next)
    {
        Volatile.Write(ref _current, next);
        _first.TrySetResult(next);
        Changed?.Invoke(this, EventArgs.Empty);
    }

    public ValueTask<ClusterCertificate> WaitAsync(CancellationToken cancellationToken)
    {
        if (!IsConfigured)
        {
            throw new PlexusException(PlexusErrorCode.Unavailable, "This node is not configured for a cluster.");
        }

        return new ValueTask<ClusterCertificate>(_first.Task.WaitAsync(cancellationToken));
    }
}
