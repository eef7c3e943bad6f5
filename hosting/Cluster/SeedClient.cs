using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// A member's way to the seed: the token-keyed join (which needs no certificate) and control requests over mutual TLS
/// (one connection per request; a watch keeps its own).
/// </summary>
internal sealed class SeedClient(string host, int port, ClusterIdentity identity)
{
    public string Address => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>Runs the join handshake; the node's key never leaves it, only its certificate request does.</summary>
    /// <exception cref="ClusterJoinRefusedException">Either side's proof failed, or the seed refused: trying again cannot help.</exception>
    /// <exception cref="SocketException">The seed cannot be reached (yet).</exception>
    public async Task<(JoinWelcome Welcome, string Cluster)> JoinAsync(ClusterToken token, string node, string purpose, JoinRequest request, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(host, port, cancellationToken);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(ClusterWire.JoinMagic, cancellationToken);
        var nonce = RandomNumberGenerator.GetBytes(32);
        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        await ClusterWire.WriteAsync(stream, new JoinHello(1, purpose, node, nonce), cancellationToken);
        var challenge = await ClusterWire.ReadAsync<JoinChallenge>(stream, cancellationToken)
            ?? throw new IOException($"the seed at {Address} closed the connection before answering");
        if (challenge.Refused is { } refused)
        {
            throw new ClusterJoinRefusedException($"The seed at {Address} refused: {refused}.");
        }

        if (challenge.Nonce is not { Length: 32 } || challenge.Proof is null || !token.Verify(challenge.Proof, "seed", nonce, challenge.Nonce, purposeBytes))
        {
            // Tell the seed why, so that its log says so too; nothing secret goes with it.
            await ClusterWire.WriteAsync(stream, new JoinProof(null, null, "its proof of the cluster token does not match this node's token"), cancellationToken);
            throw new ClusterJoinRefusedException(
                $"The seed at {Address} does not know this node's cluster token, so it was not trusted and nothing was sent to it: either the tokens differ (check Plexus:Cluster:Token on both sides), or {Address} is not the seed meant (check Plexus:Cluster:Join).");
        }

        var key = token.SessionKey(nonce, challenge.Nonce);
        await ClusterWire.WriteAsync(stream, new JoinProof(token.Proof("node", nonce, challenge.Nonce, purposeBytes), ClusterWire.SealJson(key, request), null), cancellationToken);
        var answer = await ClusterWire.ReadAsync<JoinAnswer>(stream, cancellationToken)
            ?? throw new IOException($"the seed at {Address} closed the connection before its answer");
        if (answer.Refused is { } no)
        {
            throw new ClusterJoinRefusedException($"The seed at {Address} refused: {no}.");
        }

        try
        {
            return (ClusterWire.OpenJson<JoinWelcome>(key, answer.Sealed ?? throw new InvalidDataException("the answer is empty")), challenge.Cluster ?? "?");
        }
        catch (CryptographicException)
        {
            throw new ClusterJoinRefusedException($"The answer from {Address} was not sealed with this join's key: something between this node and the seed changed it. Nothing from it was used.");
        }
    }

    /// <summary>Sends one control request and returns the seed's answer.</summary>
    /// <exception cref="PlexusException">The seed cannot be reached.</exception>
    /// <exception cref="SeedRefusedException">The seed answered with an error (code <c>lost</c>: a lease it no longer holds).</exception>
    public async Task<ControlResponse> CallAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        await using var ssl = await ConnectAsync(cancellationToken);
        await ClusterWire.WriteAsync(ssl, request, cancellationToken);
        var response = await ClusterWire.ReadAsync<ControlResponse>(ssl, cancellationToken)
            ?? throw new PlexusException(PlexusErrorCode.Unavailable, $"The seed at {Address} closed the connection without answering '{request.Op}'.");
        return response.Error is { } error
            ? throw new SeedRefusedException($"The seed at {Address} refused '{request.Op}': {error}")
            : response;
    }

    /// <summary>Streams the seed's discovery events for one endpoint: a snapshot as Added, then changes.</summary>
    public async IAsyncEnumerable<ControlResponse> WatchAsync(string endpoint, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var ssl = await ConnectAsync(cancellationToken);
        await ClusterWire.WriteAsync(ssl, new ControlRequest("watch", Endpoint: endpoint), cancellationToken);
        while (await ClusterWire.ReadAsync<ControlResponse>(ssl, cancellationToken) is { } change)
        {
            yield return change;
        }

        throw new PlexusException(PlexusErrorCode.Unavailable, $"The seed at {Address} ended the watch of {endpoint}.");
    }

    private async Task<SslStream> ConnectAsync(CancellationToken cancellationToken)
    {
        var current = await identity.WaitAsync(cancellationToken);
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(TimeSpan.FromSeconds(10));
            await tcp.ConnectAsync(host, port, connect.Token);
            return await ClusterTls.AuthenticateAsClientAsync(tcp.GetStream(), host, current, connect.Token);
        }
        catch (Exception ex) when (ex is SocketException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            tcp.Dispose();
            throw new PlexusException(PlexusErrorCode.Unavailable, $"The seed at {Address} cannot be reached: {ex.Message}");
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }
}
