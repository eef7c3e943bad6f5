using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Cluster;

/// <summary>Checks <c>Plexus:Cluster</c> at start; each failure names its key and what to write instead.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var failures = new List<string>();
        if (options.Seed && !string.IsNullOrWhiteSpace(options.Join))
        {
            failures.Add($"{ClusterOptions.Key("Seed")} is true and {ClusterOptions.Key("Join")} is '{options.Join}'; a node is the seed or joins one: remove one of them.");
        }

        if (!string.IsNullOrWhiteSpace(options.Join))
        {
            if (!ClusterAddress.TryParse(options.Join, out _, out _, out var problem))
            {
                failures.Add($"{ClusterOptions.Key("Join")} is '{options.Join}': {problem}");
            }

            if (string.IsNullOrWhiteSpace(options.Token))
            {
                failures.Add($"{ClusterOptions.Key("Join")} is set but {ClusterOptions.Key("Token")} is not; give the token the seed printed (Plexus:Cluster:Token or the environment variable Plexus__Cluster__Token).");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.Token) && !ClusterToken.TryParse(options.Token, out _, out var tokenProblem))
        {
            failures.Add($"{ClusterOptions.Key("Token")} {tokenProblem}");
        }

        if (options.Seed && !ClusterAddress.TryParse(options.Listen, out _, out _, out var listenProblem))
        {
            failures.Add($"{ClusterOptions.Key("Listen")} is '{options.Listen}': {listenProblem}");
        }

        Positive(failures, "CaLifetime", options.CaLifetime, TimeSpan.FromMinutes(1), "30.00:00:00 (30 days)");
        Positive(failures, "CertificateLifetime", options.CertificateLifetime, TimeSpan.FromSeconds(5), "24h");
        Positive(failures, "MemberLease", options.MemberLease, TimeSpan.FromSeconds(1), "15s");
        Positive(failures, "JoinTimeout", options.JoinTimeout, TimeSpan.FromSeconds(1), "60s");
        if (options.CertificateLifetime >= options.CaLifetime)
        {
            failures.Add($"{ClusterOptions.Key("CertificateLifetime")} ({options.CertificateLifetime}) must be shorter than {ClusterOptions.Key("CaLifetime")} ({options.CaLifetime}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value, TimeSpan least, string example)
    {
        if (value < least)
        {
            failures.Add($"{ClusterOptions.Key(key)} is {value}; it must be at least {least}, such as {example}.");
        }
    }
}
