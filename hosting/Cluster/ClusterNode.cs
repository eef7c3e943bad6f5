using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Composition;
using Plexus.Hosting.RequestPlane;
using Plexus.Hosting.RequestPlane.Server;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// This node's place in its cluster (<c>Plexus:Cluster</c>). On the seed: the CA (made, or loaded from the state
/// directory), the token, the join listener, the member table, its own certificate. On a member: the join (with retries
/// until <see cref="ClusterOptions.JoinTimeout"/>), heartbeats, and renewal of its certificate after two thirds of its
/// life. Starts before the request plane's server, whose transports may need the certificate.
/// </summary>
internal sealed class ClusterNode : IHostedService, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly ClusterIdentity _identity;
    private readonly NodeIdentity _node;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterNode> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private ClusterAuthority? _authority;
    private ClusterToken? _token;
    private ClusterMember[] _members = [];
    private DateTimeOffset _received;

    public ClusterNode(IOptions<ClusterOptions> options, ClusterIdentity identity, NodeIdentity node, IServiceProvider services, TimeProvider time, ILogger<ClusterNode> logger)
    {
        _options = options.Value;
        _identity = identity;
        _node = node;
        _services = services;
        _time = time;
        _logger = logger;
        if (ClusterAddress.TryParse(_options.Join, out var host, out var port, out _))
        {
            Seed = new SeedClient(host, port, identity);
        }
    }

    /// <summary><c>seed</c>, <c>member</c>, or <c>none</c>.</summary>
    public string Role => _options.Seed ? "seed" : Seed is not null ? "member" : "none";

    /// <summary>On the seed, its join listener; null elsewhere.</summary>
    public SeedServer? Server { get; private set; }

    /// <summary>On a member, its way to the seed; null elsewhere.</summary>
    public SeedClient? Seed { get; }

    /// <summary>The cluster's id (from its CA's key), once known.</summary>
    public string? ClusterId { get; private set; }

    /// <summary>The address nodes join at: on the seed its advertised address, on a member the seed it joined.</summary>
    public string? JoinAddress => Server is not null ? Advertised() : Seed?.Address;

    /// <summary>When the cluster CA expires, once known.</summary>
    public DateTimeOffset? AuthorityExpires => _identity.Current?.Authority.NotAfter.ToUniversalTime();

    /// <summary>The member table: the seed's own, or the one a member last received.</summary>
    public IReadOnlyList<ClusterMember> Members => Server?.Members.Snapshot() ?? Volatile.Read(ref _members);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Seed)
        {
            StartSeed();
        }
        else if (Seed is not null)
        {
            await JoinAsync(cancellationToken);
            _loops.Add(Task.Run(() => HeartbeatAsync(_stop.Token), CancellationToken.None));
        }
        else
        {
            return;
        }

        _loops.Add(Task.Run(() => RenewAsync(_stop.Token), CancellationToken.None));
    }

    private void StartSeed()
    {
        var state = string.IsNullOrWhiteSpace(_options.StatePath) ? null : new ClusterState(_options.StatePath);
        var now = _time.GetUtcNow();
        var generated = false;
        if (!string.IsNullOrWhiteSpace(_options.Token))
        {
            ClusterToken.TryParse(_options.Token, out _token, out _);
        }

        _token ??= state?.LoadToken();
        if (_token is null)
        {
            _token = ClusterToken.Generate();
            state?.SaveToken(_token);
            generated = true;
        }

        try
        {
            _authority = state?.LoadAuthority();
        }
        catch (CryptographicException ex)
        {
            throw new PlexusConfigurationException($"The cluster state in {state!.Directory} cannot be read: {ex.Message} Remove ca.pem and ca.key there to start a new cluster (every member must then join again).");
        }

        if (_authority is not null && _authority.Certificate.NotAfter.ToUniversalTime() <= now + _options.CertificateLifetime)
        {
            ClusterLog.AuthorityExpired(_logger, state!.Directory, _authority.Certificate.NotAfter.ToUniversalTime());
            _authority.Dispose();
            _authority = null;
        }

        if (_authority is null)
        {
            _authority = ClusterAuthority.Create(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), _options.CaLifetime, now);
            state?.SaveAuthority(_authority);
        }

        ClusterId = IdOf(_authority.Certificate);
        if (!ClusterAddress.TryParse(_options.Listen, out var host, out var port, out var problem) || !IPAddress.TryParse(host, out var ip))
        {
            throw new PlexusConfigurationException($"{ClusterOptions.Key("Listen")} is '{_options.Listen}': {(problem.Length > 0 ? problem : "the host must be an IP address, such as 0.0.0.0 or 127.0.0.1")}");
        }

        IssueOwn(now);
        var server = new SeedServer(_authority, _token, ClusterId, _options, _identity, new IPEndPoint(ip, port), _time, _logger);
        try
        {
            server.Start();
        }
        catch (SocketException ex)
        {
            throw new PlexusConfigurationException($"The seed cannot listen on {_options.Listen} ({ClusterOptions.Key("Listen")}): {ex.Message}. Choose a free port.");
        }

        Server = server;
        server.Members.Touch(_node.Id, [], _identity.Current!.NotAfter, now, seed: true);
        ClusterLog.SeedListening(_logger, ClusterId, server.LocalEndPoint, _authority.Certificate.NotAfter.ToUniversalTime(), state is null ? " (no Plexus:Cluster:StatePath: the CA lives as long as this process)" : $"; state in {state.Directory}");
        if (generated)
        {
            ClusterLog.TokenGenerated(_logger, Advertised(), _token.ToHex());
        }

        _loops.Add(Task.Run(() => SweepAsync(_stop.Token), CancellationToken.None));
    }

    /// <summary>The seed's join address as others reach it: the advertised one, else the bound one (with its real port).</summary>
    private string Advertised()
    {
        if (!string.IsNullOrWhiteSpace(_options.AdvertisedAddress))
        {
            return _options.AdvertisedAddress;
        }

        var bound = Server?.LocalEndPoint;
        var host = bound is null || bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : bound.Address.ToString();
        return bound is null ? _options.Listen : bound.AddressFamily == AddressFamily.InterNetworkV6 && host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{bound.Port}" : $"{host}:{bound.Port}";
    }

    private void IssueOwn(DateTimeOffset now)
    {
        var (key, request) = ClusterAuthority.NewRequest(_node.Id);
        using (key)
        {
            using var issued = _authority!.Issue(request, _node.Id, Hosts(), _options.CertificateLifetime, now);
            _received = now;
            _identity.Set(new ClusterCertificate(ClusterAuthority.WithKey(issued, key), X509CertificateLoader.LoadCertificate(_authority.Certificate.RawData)));
        }
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        if (!ClusterToken.TryParse(_options.Token ?? string.Empty, out var token, out var problem))
        {
            throw new PlexusConfigurationException($"{ClusterOptions.Key("Token")} {problem}");
        }

        _token = token;
        var deadline = _time.GetUtcNow() + _options.JoinTimeout;
        var delay = TimeSpan.FromMilliseconds(200);
        var warned = false;
        while (true)
        {
            try
            {
                await JoinOnceAsync(token, cancellationToken);
                return;
            }
            catch (ClusterJoinRefusedException ex)
            {
                var failure = new PlexusConfigurationException(ex.Message);
                _identity.Fail(new PlexusException(PlexusErrorCode.Unavailable, ex.Message));
                throw failure;
            }
            catch (Exception ex) when (ex is SocketException or IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
            {
                if (_time.GetUtcNow() + delay > deadline)
                {
                    var message = $"The seed at {Seed!.Address} ({ClusterOptions.Key("Join")}) could not be reached within {_options.JoinTimeout} ({ClusterOptions.Key("JoinTimeout")}): {ex.Message}. Start the seed first, or check the address and that its port is open.";
                    _identity.Fail(new PlexusException(PlexusErrorCode.Unavailable, message));
                    throw new PlexusConfigurationException(message);
                }

                if (!warned)
                {
                    ClusterLog.SeedUnreachable(_logger, Seed!.Address, ex.Message, _options.JoinTimeout);
                    warned = true;
                }
            }

            await Task.Delay(delay, _time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    /// <summary>One join: a fresh key, the token handshake, and the certificate the seed issued for it.</summary>
    private async Task JoinOnceAsync(ClusterToken token, CancellationToken cancellationToken)
    {
        var (key, request) = ClusterAuthority.NewRequest(_node.Id);
        using (key)
        {
            var (welcome, cluster) = await Seed!.JoinAsync(token, _node.Id, "join", new JoinRequest(request, Hosts(), ServingAddresses()), cancellationToken);
            var authority = X509Certificate2.CreateFromPem(welcome.Authority ?? throw new InvalidDataException("the welcome carries no CA"));
            using var issued = X509Certificate2.CreateFromPem(welcome.Certificate ?? throw new InvalidDataException("the welcome carries no certificate"));
            var certificate = new ClusterCertificate(ClusterAuthority.WithKey(issued, key), authority);
            if (!certificate.TryVerifyPeer(certificate.Certificate, out var bad))
            {
                throw new ClusterJoinRefusedException($"The certificate the seed at {Seed.Address} issued does not chain to the CA it sent: {bad}.");
            }

            ClusterId = cluster;
            Volatile.Write(ref _members, welcome.Members);
            _received = _time.GetUtcNow();
            _identity.Set(certificate);
            ClusterLog.Joined(_logger, cluster, Seed.Address, certificate.NotAfter);
        }
    }

    /// <summary>Tells the seed this member is alive and where it serves, and keeps the member table it answers with.</summary>
    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        var period = _options.MemberLease / 3;
        var failing = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var answer = await Seed!.CallAsync(new ControlRequest("heartbeat", Addresses: ServingAddresses()), stopping);
                Volatile.Write(ref _members, answer.Members ?? []);
                failing = false;
            }
            catch (PlexusException ex)
            {
                if (!failing)
                {
                    ClusterLog.HeartbeatFailed(_logger, Seed!.Address, ex.Message);
                    failing = true;
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(period, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Renews this node's certificate after two thirds of its life; on failure, again after a tenth of it.</summary>
    private async Task RenewAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            // From when this node received the certificate, not its NotBefore, which the CA backdates for clock skew.
            var current = _identity.Current!;
            var received = _received;
            var lifetime = current.NotAfter - received;
            var due = received + (lifetime * 2 / 3) - _time.GetUtcNow();
            try
            {
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, _time, stopping);
                }

                var now = _time.GetUtcNow();
                if (Server is not null)
                {
                    IssueOwn(now);
                }
                else if (current.NotAfter <= now)
                {
                    // Expired while the seed was away: the seed no longer accepts it over TLS, but the token still
                    // proves membership, so the node joins again with a fresh key.
                    await JoinOnceAsync(_token!, stopping);
                }
                else
                {
                    var (key, request) = ClusterAuthority.NewRequest(_node.Id);
                    using (key)
                    {
                        var answer = await Seed!.CallAsync(new ControlRequest("renew", SigningRequest: request, Hosts: Hosts(), Addresses: ServingAddresses()), stopping);
                        using var issued = X509Certificate2.CreateFromPem(answer.Certificate ?? throw new PlexusException(PlexusErrorCode.Unavailable, "the seed's answer carries no certificate"));
                        var renewed = new ClusterCertificate(ClusterAuthority.WithKey(issued, key), current.Authority);
                        if (!renewed.TryVerifyPeer(renewed.Certificate, out var bad))
                        {
                            throw new PlexusException(PlexusErrorCode.Unavailable, $"the renewed certificate does not chain to the cluster CA: {bad}");
                        }

                        _received = now;
                        _identity.Set(renewed);
                    }
                }

                ClusterLog.Renewed(_logger, _identity.Current!.NotAfter);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is PlexusException or CryptographicException or SocketException or IOException or InvalidDataException or ClusterJoinRefusedException)
            {
                var retry = TimeSpan.FromTicks(Math.Max(lifetime.Ticks / 10, TimeSpan.FromSeconds(1).Ticks));
                ClusterLog.RenewFailed(_logger, ex.Message, retry, current.NotAfter);
                try
                {
                    await Task.Delay(retry, _time, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task SweepAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                // The seed is a member too: its own row shows where it serves and its current certificate.
                Server!.Members.Touch(_node.Id, ServingAddresses(), _identity.Current?.NotAfter, _time.GetUtcNow(), seed: true);
                foreach (var node in Server.Members.Sweep(_time.GetUtcNow(), _options.MemberLease))
                {
                    ClusterLog.MemberExpired(_logger, node, _options.MemberLease);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The request-plane addresses this node serves at, for the member table.</summary>
    private string[] ServingAddresses()
    {
        var listeners = _services.GetService<RequestPlaneServerHost>()?.Listeners ?? [];
        var addresses = new string[listeners.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = listeners[i].Address.ToString();
        }

        return addresses;
    }

    /// <summary>The names and addresses of this machine, for the certificate's subject alternative names.</summary>
    private static string[] Hosts()
    {
        var hosts = new List<string> { Dns.GetHostName(), "127.0.0.1", "::1" };
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                {
                    if (!IPAddress.IsLoopback(address.Address) && !address.Address.IsIPv6LinkLocal)
                    {
                        hosts.Add(address.Address.ToString());
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Names are informational in a cluster (membership is checked, not names); go with what there is.
        }

        return [.. hosts.Distinct(StringComparer.Ordinal)];
    }

    private static string IdOf(X509Certificate2 authority)
    {
        using var key = authority.GetECDsaPublicKey()!;
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 6));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        foreach (var loop in _loops)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
            Server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None);
        }

        _authority?.Dispose();
        _stop.Dispose();
    }
}
