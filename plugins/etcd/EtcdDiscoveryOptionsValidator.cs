using Microsoft.Extensions.Options;

namespace Plexus.Discovery.Etcd;

/// <summary>Checks <see cref="EtcdDiscoveryOptions"/> when the host starts; every failure names its key and what to write.</summary>
internal sealed class EtcdDiscoveryOptionsValidator : IValidateOptions<EtcdDiscoveryOptions>
{
    internal static readonly TimeSpan MinLeaseTtl = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan MaxLeaseTtl = TimeSpan.FromHours(1);
    internal static readonly TimeSpan MinRequestTimeout = TimeSpan.FromMilliseconds(100);
    internal static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, EtcdDiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        CheckEndpoints(options, failures);

        if (string.IsNullOrWhiteSpace(options.Prefix) || options.Prefix.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            failures.Add($"{EtcdDiscoveryOptions.Key("Prefix")} is '{options.Prefix}'; set it to a key prefix without spaces, such as /plexus.");
        }

        if (options.LeaseTtl < MinLeaseTtl || options.LeaseTtl > MaxLeaseTtl)
        {
            failures.Add($"{EtcdDiscoveryOptions.Key("LeaseTtl")} is {options.LeaseTtl}; set it between {MinLeaseTtl.TotalSeconds:0}s and {MaxLeaseTtl.TotalHours:0}h, such as 10s (etcd leases count whole seconds, and etcd raises shorter ones to its minimum).");
        }

        if (options.RequestTimeout < MinRequestTimeout || options.RequestTimeout > MaxRequestTimeout)
        {
            failures.Add($"{EtcdDiscoveryOptions.Key("RequestTimeout")} is {options.RequestTimeout}; set it between 100ms and 1m, such as 5s.");
        }

        var hasUser = !string.IsNullOrEmpty(options.User);
        var hasPassword = !string.IsNullOrEmpty(options.Password);
        if (hasUser != hasPassword)
        {
            failures.Add(hasUser
                ? $"{EtcdDiscoveryOptions.Key("User")} is set but {EtcdDiscoveryOptions.Key("Password")} is not; set both, or neither when etcd has no authentication."
                : $"{EtcdDiscoveryOptions.Key("Password")} is set but {EtcdDiscoveryOptions.Key("User")} is not; set both, or neither when etcd has no authentication.");
        }

        CheckTlsFiles(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckEndpoints(EtcdDiscoveryOptions options, List<string> failures)
    {
        var key = EtcdDiscoveryOptions.Key("Endpoints");
        var schemes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in options.EndpointList())
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
                || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || string.IsNullOrEmpty(uri.Host))
            {
                failures.Add($"{key} has '{endpoint}', which is not an etcd client URL; write http://host:port or https://host:port, such as {EtcdDiscoveryOptions.DefaultEndpoint}.");
                continue;
            }

            if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            {
                failures.Add($"{key} has '{endpoint}'; write only scheme, host and port (credentials go in {EtcdDiscoveryOptions.Key("User")} and {EtcdDiscoveryOptions.Key("Password")}).");
                continue;
            }

            schemes.Add(uri.Scheme);
        }

        if (schemes.Count > 1)
        {
            failures.Add($"{key} mixes http:// and https:// URLs; use https:// for every member when etcd serves TLS, http:// for every member otherwise.");
        }

        var tlsFiles = options.CaFile is not null || options.CertFile is not null || options.KeyFile is not null;
        if (tlsFiles && schemes.Count == 1 && schemes.Contains(Uri.UriSchemeHttp))
        {
            failures.Add($"{EtcdDiscoveryOptions.Key("CaFile")}, {EtcdDiscoveryOptions.Key("CertFile")} or {EtcdDiscoveryOptions.Key("KeyFile")} is set but {key} are http:// URLs; write them as https:// to use TLS.");
        }
    }

    private static void CheckTlsFiles(EtcdDiscoveryOptions options, List<string> failures)
    {
        CheckFile("CaFile", options.CaFile, failures);
        CheckFile("CertFile", options.CertFile, failures);
        CheckFile("KeyFile", options.KeyFile, failures);
        if ((options.CertFile is null) != (options.KeyFile is null))
        {
            failures.Add(options.CertFile is null
                ? $"{EtcdDiscoveryOptions.Key("KeyFile")} is set but {EtcdDiscoveryOptions.Key("CertFile")} is not; set both to present a client certificate."
                : $"{EtcdDiscoveryOptions.Key("CertFile")} is set but {EtcdDiscoveryOptions.Key("KeyFile")} is not; set both to present a client certificate.");
        }
    }

    private static void CheckFile(string name, string? path, List<string> failures)
    {
        if (path is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            failures.Add($"{EtcdDiscoveryOptions.Key(name)} is '{path}', which is not a file; point it at a PEM file.");
        }
    }
}
