using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using dotnet_etcd;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace Plexus.Discovery.Etcd;

/// <summary>
/// One gRPC channel to the etcd cluster, through dotnet-etcd: every member in <c>Endpoints</c> behind gRPC's round-robin
/// balancer (a member that stops answering is skipped until it answers again, so requests fail over), a retry of
/// calls that fail with <c>Unavailable</c>, TLS with the configured CA and client certificate, and the user's token
/// attached to every call (dotnet-etcd fetches it, and fetches it again when etcd refuses it).
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly EtcdClient _client;
    private readonly EtcdTls? _tls;

    public EtcdConnection(EtcdDiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoints = options.EndpointList().Select(e => new Uri(e)).ToArray();
        Endpoints = string.Join(", ", endpoints.Select(e => e.GetLeftPart(UriPartial.Authority)));
        RequestTimeout = options.RequestTimeout;
        var secure = endpoints[0].Scheme == Uri.UriSchemeHttps;
        var connectionString = string.Join(',', endpoints.Select(e => $"{e.Scheme}://{e.Host}:{e.Port}"));
        var tls = secure ? EtcdTls.Load(options, endpoints.Select(e => e.IdnHost).ToArray()) : null;
        _tls = tls;

        _client = tls is null
            ? new EtcdClient(connectionString, serverName: endpoints[0].IdnHost, configureChannelOptions: ConfigureChannel)
            : new EtcdClient(connectionString, tls.Configure, serverName: endpoints[0].IdnHost, configureChannelOptions: ConfigureChannel);
        if (!string.IsNullOrEmpty(options.User))
        {
            _client.SetCredentials(options.User, options.Password ?? string.Empty);
        }
    }

    /// <summary>The members' addresses, for messages.</summary>
    public string Endpoints { get; }

    /// <summary>How long one call may take.</summary>
    public TimeSpan RequestTimeout { get; }

    /// <summary>The KV service.</summary>
    public Etcdserverpb.KV.KVClient KV => _client.GetConnection().KVClient;

    /// <summary>The lease service.</summary>
    public Etcdserverpb.Lease.LeaseClient Lease => _client.GetConnection().LeaseClient;

    /// <summary>The watch service.</summary>
    public Etcdserverpb.Watch.WatchClient Watch => _client.GetConnection().WatchClient;

    /// <summary>The deadline of a call starting now.</summary>
    public DateTime Deadline() => DateTime.UtcNow + RequestTimeout;

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// One sentence saying why a call to etcd failed and what to do about it, for logs and for <c>/health</c>.
    /// </summary>
    public string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (FindTlsFailure(exception) is { } tls)
        {
            return $"the TLS handshake with etcd at {Endpoints} failed ({_tls?.LastRefusal ?? tls}); check {EtcdDiscoveryOptions.Key("CaFile")}, {EtcdDiscoveryOptions.Key("CertFile")} and {EtcdDiscoveryOptions.Key("KeyFile")}";
        }

        if (exception is RpcException rpc)
        {
            var detail = string.IsNullOrEmpty(rpc.Status.Detail) ? rpc.StatusCode.ToString() : rpc.Status.Detail.TrimEnd('.');
            if (Innermost(rpc.Status.DebugException) is { } cause && !detail.Contains(cause, StringComparison.Ordinal))
            {
                // "Error connecting to subchannel" says little; the socket's error ("Connection refused") says more.
                detail = $"{detail}: {cause}";
            }

            var credentials = rpc.StatusCode == StatusCode.Unauthenticated
                || (rpc.StatusCode == StatusCode.InvalidArgument && (detail.Contains("authentication", StringComparison.OrdinalIgnoreCase) || detail.Contains("user name", StringComparison.OrdinalIgnoreCase)));
            if (credentials)
            {
                return $"etcd at {Endpoints} refused the credentials ({detail}); check {EtcdDiscoveryOptions.Key("User")} and {EtcdDiscoveryOptions.Key("Password")}";
            }

            return rpc.StatusCode switch
            {
                StatusCode.PermissionDenied =>
                    $"etcd at {Endpoints} denied access ({detail}); grant the user read and write permission on the key prefix",
                StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown =>
                    $"etcd at {Endpoints} did not answer ({detail}); check that it runs and that {EtcdDiscoveryOptions.Key("Endpoints")} names its client URLs",
                _ => $"etcd at {Endpoints} answered {rpc.StatusCode} ({detail})",
            };
        }

        return $"talking to etcd at {Endpoints} failed ({exception.GetType().Name}: {exception.Message})";
    }

    private static string? Innermost(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception.Message.TrimEnd('.');
    }

    private static string? FindTlsFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e is RpcException { Status.DebugException: { } debug } ? debug : e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return e.Message;
            }
        }

        return null;
    }

    private void ConfigureChannel(GrpcChannelOptions options)
    {
        // dotnet-etcd's defaults retry for up to ~10 s and let a member that was down wait up to 2 minutes for its next
        // connection attempt; discovery retries on its own, so keep both short.
        options.ServiceConfig = new ServiceConfig
        {
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = 3,
                        InitialBackoff = TimeSpan.FromMilliseconds(100),
                        MaxBackoff = TimeSpan.FromSeconds(1),
                        BackoffMultiplier = 2,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
            LoadBalancingConfigs = { new RoundRobinConfig() },
        };
        options.InitialReconnectBackoff = TimeSpan.FromMilliseconds(200);
        options.MaxReconnectBackoff = TimeSpan.FromSeconds(2);
        options.MaxReceiveMessageSize = 64 * 1024 * 1024;
        if (options.HttpHandler is SocketsHttpHandler handler)
        {
            handler.ConnectTimeout = RequestTimeout;

            // HTTP/2 pings find a member that vanished without closing the connection (a partition), so that its
            // watches and keep-alives move to another member.
            handler.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }
    }
}
