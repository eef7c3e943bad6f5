namespace Plexus.Transport.Rdma.Workers;

/// <summary>A UCX call failed; <see cref="Status"/> is UCX's <c>ucs_status_t</c>.</summary>
internal sealed class UcxException(string message, int status) : IOException(message)
{
    public int Status { get; } = status;
}
