using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Plexus.Hosting.Discovery;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// The seed's port: joins (a connection that begins with <see cref="ClusterWire.JoinMagic"/>) and members' control
/// connections (mutual TLS with cluster certificates) on one listener. One bad connection never affects another.
/// </summary>
internal sealed partial class SeedServer : IAsyncDisposable
{
    private readonly ClusterAuthority _authority;
    private readonly ClusterToken _token;
    private readonly ClusterOptions _options;
    private readonly ClusterIdentity _identity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(EndpointAddress, InstanceId), IDiscoveryLease> _leases = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TcpListener _listener;
    private Task? _accepting;

    public SeedServer(ClusterAuthority authority, ClusterToken token, string clusterId, ClusterOptions options, ClusterIdentity identity, IPEndPoint bind, TimeProvider time, ILogger logger)
    {
        _authority = authority;
        _token = token;
        ClusterId = clusterId;
        _options = options;
        _identity = identity;
        _time = time;
        _logger = logger;
        _listener = new TcpListener(bind);
        Registry = new InMemoryDiscoveryProvider(time);
    }

    public string ClusterId { get; }

    public ClusterMembership Members { get; } = new();

    /// <summary>The <c>seed</c> discovery provider's registry: members' instances under their leases.</summary>
    public InMemoryDiscoveryProvider Registry { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public void Start()
    {
        _listener.Start(128);
        _accepting = Task.Run(AcceptAsync);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                ClusterLog.ConnectionFailed(_logger, null, ex.Message);
                continue;
            }

            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint;
        socket.NoDelay = true;
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var first = new byte[4];
            var peeked = 0;
            while (peeked < first.Length)
            {
                var n = await socket.ReceiveAsync(first, SocketFlags.Peek, timeout.Token);
                if (n == 0)
                {
                    return;
                }

                // A peek returns what has arrived so far; wait for the rest rather than spin.
                peeked = n;
                if (peeked < first.Length)
                {
                    await Task.Delay(5, timeout.Token);
                }
            }

            if (first.AsSpan().SequenceEqual(ClusterWire.JoinMagic))
            {
                await ClusterWire.FillAsync(stream, first, timeout.Token);
                await JoinAsync(stream, remote, timeout.Token);
            }
            else if (first[0] == 0x16)
            {
                await ControlAsync(stream, remote);
            }
            else
            {
                ClusterLog.ConnectionFailed(_logger, remote, "it spoke neither the join protocol nor TLS; is a node of another version, or something else, pointed at this port?");
            }
        }
        catch (Exception ex)
        {
            // Whatever one connection does, the listener and every other connection carry on.
            if (!_stop.IsCancellationRequested)
            {
                ClusterLog.ConnectionFailed(_logger, remote, $"{ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>The seed's side of a join: prove the token first, check the node's proof, then sign its request.</summary>
    private async Task JoinAsync(Stream stream, EndPoint? remote, CancellationToken cancellationToken)
    {
        var hello = await ClusterWire.ReadAsync<JoinHello>(stream, cancellationToken) ?? throw new InvalidDataException("the node closed the connection before its hello");
        if (hello.Version != 1)
        {
            await ClusterWire.WriteAsync(stream, new JoinChallenge(null, null, null, $"this seed speaks join protocol 1, the node {hello.Version}; run the same Plexus version on both"), cancellationToken);
            return;
        }

        if (hello.Nonce is not { Length: 32 } || hello.Purpose is not ("join" or "members") || string.IsNullOrWhiteSpace(hello.Node) || hello.Node.Length > 128)
        {
            throw new InvalidDataException("the join hello is malformed (nonce, purpose or node id)");
        }

        var purpose = Encoding.UTF8.GetBytes(hello.Purpose);
        var nonce = RandomNumberGenerator.GetBytes(32);
        await ClusterWire.WriteAsync(stream, new JoinChallenge(nonce, _token.Proof("seed", hello.Nonce, nonce, purpose), ClusterId, null), cancellationToken);

        var proof = await ClusterWire.ReadAsync<JoinProof>(stream, cancellationToken) ?? throw new InvalidDataException("the node closed the connection before its proof");
        if (proof.Refused is { } refusal)
        {
            ClusterLog.SeedRefused(_logger, hello.Node, remote, refusal);
            return;
        }

        if (proof.Proof is null || !_token.Verify(proof.Proof, "node", hello.Nonce, nonce, purpose))
        {
            ClusterLog.WrongToken(_logger, hello.Node, remote);
            await ClusterWire.WriteAsync(stream, new JoinAnswer(null, "the seed refused this node: its cluster token is wrong (it is not the token of the cluster this seed runs); set Plexus:Cluster:Token to the token the seed printed"), cancellationToken);
            return;
        }

        var key = _token.SessionKey(hello.Nonce, nonce);
        var request = ClusterWire.OpenJson<JoinRequest>(key, proof.Sealed ?? throw new InvalidDataException("the proof carries no request"));
        var now = _time.GetUtcNow();
        if (hello.Purpose == "members")
        {
            await ClusterWire.WriteAsync(stream, new JoinAnswer(ClusterWire.SealJson(key, new JoinWelcome(null, null, Members.Snapshot())), null), cancellationToken);
            return;
        }

        using var issued = _authority.Issue(request.SigningRequest ?? throw new InvalidDataException("the join carries no certificate request"), hello.Node, request.Hosts, _options.CertificateLifetime, now);
        var expires = issued.NotAfter.ToUniversalTime();
        Members.Touch(hello.Node, request.Addresses, expires, now);
        var welcome = new JoinWelcome(_authority.CertificatePem, issued.ExportCertificatePem(), Members.Snapshot());
        await ClusterWire.WriteAsync(stream, new JoinAnswer(ClusterWire.SealJson(key, welcome), null), cancellationToken);
        ClusterLog.MemberJoined(_logger, hello.Node, remote, expires);
    }

    /// <summary>A member's control connection: requests one after another until it closes.</summary>
    private async Task ControlAsync(Stream stream, EndPoint? remote)
    {
        var current = _identity.Current ?? throw new PlexusException(PlexusErrorCode.Unavailable, "the seed has no certificate yet");
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        handshake.CancelAfter(TimeSpan.FromSeconds(10));
        await using var ssl = await ClusterTls.AuthenticateAsServerAsync(stream, current, handshake.Token);
        var peer = ssl.RemoteCertificate as X509Certificate2 ?? throw new PlexusException(PlexusErrorCode.Unavailable, "the member presented no certificate");
        var node = peer.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        while (await ClusterWire.ReadAsync<ControlRequest>(ssl, _stop.Token) is { } request)
        {
            if (request.Op == "watch")
            {
                await WatchAsync(ssl, request);
                return;
            }

            ControlResponse response;
            try
            {
                response = await HandleAsync(request, node, peer);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ClusterLog.ControlFailed(_logger, request.Op, ex.Message);
                response = new ControlResponse(Error: ex.Message, Code: ex is PlexusException { Code: PlexusErrorCode.Unavailable } ? "lost" : "bad-request");
            }

            await ClusterWire.WriteAsync(ssl, response, _stop.Token);
        }
    }

    private async Task<ControlResponse> HandleAsync(ControlRequest request, string node, X509Certificate2 peer)
    {
        var now = _time.GetUtcNow();
        switch (request.Op)
        {
            case "heartbeat":
                Members.Touch(node, request.Addresses, peer.NotAfter.ToUniversalTime(), now);
                return new ControlResponse(Members: Members.Snapshot());
            case "renew":
                using (var issued = _authority.Issue(request.SigningRequest ?? throw new InvalidDataException("renew carries no certificate request"), node, request.Hosts ?? [], _options.CertificateLifetime, now))
                {
                    Members.Touch(node, request.Addresses, issued.NotAfter.ToUniversalTime(), now);
                    return new ControlResponse(Certificate: issued.ExportCertificatePem());
                }

            case "register":
                var instance = InstanceElements.FromElement(request.Instance ?? throw new InvalidDataException("register carries no instance"));
                var lease = await Registry.RegisterAsync(instance, TimeSpan.FromMilliseconds(request.TtlMs ?? 10_000), _stop.Token);
                _leases[(instance.Endpoint, instance.Id)] = lease;
                return new ControlResponse();
            case "renew-lease":
                await Lease(request).RenewAsync(_stop.Token);
                return new ControlResponse();
            case "update":
                await Lease(request).UpdateAsync(request.Metadata ?? [], _stop.Token);
                return new ControlResponse();
            case "remove":
                if (_leases.TryRemove(Key(request), out var removed))
                {
                    await removed.DisposeAsync();
                }

                return new ControlResponse();
            case "list":
                var listed = await Registry.ListAsync(request.Endpoint is { } e ? EndpointAddress.Parse(e) : null, _stop.Token);
                var elements = new System.Text.Json.JsonElement[listed.Count];
                for (var i = 0; i < elements.Length; i++)
                {
                    elements[i] = InstanceElements.ToElement(listed[i]);
                }

                return new ControlResponse(Instances: elements);
            default:
                throw new InvalidDataException($"'{request.Op}' is not a control operation of this seed");
        }
    }

    private IDiscoveryLease Lease(ControlRequest request) =>
        _leases.TryGetValue(Key(request), out var lease)
            ? lease
            : throw new PlexusException(PlexusErrorCode.Unavailable, $"the seed holds no lease for {request.Endpoint} instance {request.Id} (it expired, or the seed restarted); register again");

    private static (EndpointAddress, InstanceId) Key(ControlRequest request) =>
        (EndpointAddress.Parse(request.Endpoint ?? throw new InvalidDataException("the request names no endpoint")),
         InstanceId.TryParse(request.Id, out var id) ? id : throw new InvalidDataException($"'{request.Id}' is not an instance id"));

    /// <summary>Streams the registry's events for one endpoint until the member closes the connection.</summary>
    private async Task WatchAsync(SslStream ssl, ControlRequest request)
    {
        var endpoint = EndpointAddress.Parse(request.Endpoint ?? throw new InvalidDataException("watch names no endpoint"));
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);

        // The member sends nothing more; a read that ends means it went away.
        var reading = Task.Run(async () =>
        {
            try
            {
                // Whatever arrives (nothing should), or the end of the stream, ends the watch.
                var read = await ssl.ReadAsync(new byte[1], closed.Token);
                _ = read;
            }
            catch (Exception)
            {
            }
            finally
            {
                await closed.CancelAsync();
            }
        });
        try
        {
            await foreach (var change in Registry.WatchAsync(endpoint, closed.Token))
            {
                await ClusterWire.WriteAsync(ssl, new ControlResponse(Kind: change.Kind.ToString(), Instance: InstanceElements.ToElement(change.Instance)), closed.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await closed.CancelAsync();
            await reading;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var lease in _leases.Values)
        {
            await lease.DisposeAsync();
        }

        _stop.Dispose();
    }
}
