using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Configuration;

/// <summary>Checks the <c>Plexus</c> section at start; each failure names the key and what to write instead.</summary>
internal sealed class PlexusOptionsValidator : IValidateOptions<PlexusOptions>
{
    // The longest wait a timer takes (CancellationTokenSource.CancelAfter).
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(49);

    public ValidateOptionsResult Validate(string? name, PlexusOptions options)
    {
        var failures = new List<string>();
        ValidateTransports(failures, options.RequestPlane);
        RequireName(failures, "Plexus:RequestPlane:Codec", options.RequestPlane.Codec, "a codec name such as 'twopart'");
        RequireName(failures, "Plexus:Discovery:Provider", options.Discovery.Provider, "a discovery provider name such as 'memory' or 'file'");
        RequireName(failures, "Plexus:Router:Strategy", options.Router.Strategy, "a router strategy such as 'round-robin'");
        if (options.RequestPlane.DefaultTimeout < TimeSpan.Zero)
        {
            failures.Add($"Plexus:RequestPlane:DefaultTimeout is {options.RequestPlane.DefaultTimeout}; it must be zero (no limit) or positive, such as 30s.");
        }

        if (options.Discovery.LeaseTtl < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"Plexus:Discovery:LeaseTtl is {options.Discovery.LeaseTtl}; it must be at least 100ms, such as 10s.");
        }

        if (options.Router.MaxInFlightPerInstance < 0)
        {
            failures.Add($"Plexus:Router:MaxInFlightPerInstance is {options.Router.MaxInFlightPerInstance}; it must be 0 (no limit) or positive.");
        }

        if (options.Router.MaxRetries is < 0 or > 16)
        {
            failures.Add($"Plexus:Router:MaxRetries is {options.Router.MaxRetries}; it must be from 0 to 16.");
        }

        if (options.Router.UnhealthyFor < TimeSpan.Zero || options.Router.BusyFor < TimeSpan.Zero || options.Router.DiscoveryWait < TimeSpan.Zero)
        {
            failures.Add("Plexus:Router:UnhealthyFor, BusyFor and DiscoveryWait must not be negative.");
        }

        if (options.Router.DiscoveryAnswerWait <= TimeSpan.Zero || options.Router.DiscoveryAnswerWait > MaxWait)
        {
            failures.Add($"Plexus:Router:DiscoveryAnswerWait is {options.Router.DiscoveryAnswerWait}; it must be more than zero and at most {MaxWait.TotalDays:0} days, such as 30s.");
        }

        if (options.Server.DrainTimeout < TimeSpan.Zero)
        {
            failures.Add($"Plexus:Server:DrainTimeout is {options.Server.DrainTimeout}; it must not be negative.");
        }

        ValidateBulk(failures, options.Bulk);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateTransports(List<string> failures, RequestPlaneOptions requestPlane)
    {
        if (requestPlane.Selection?.Conflict is { } conflict)
        {
            failures.Add(conflict);
            return;
        }

        var names = requestPlane.ServingTransports;
        var key = requestPlane.ServingTransportsKey;
        if (names.Count == 0)
        {
            failures.Add($"{key} is empty; set it to a transport name such as 'memory' or 'tcp'.");
            return;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                failures.Add(names.Count == 1
                    ? $"{key} is empty; set it to a transport name such as 'memory' or 'tcp'."
                    : $"{key} has an empty entry (number {i + 1} of {names.Count}); list transport names such as 'tcp', 'quic'.");
                continue;
            }

            for (var j = 0; j < i; j++)
            {
                if (string.Equals(names[i], names[j], StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{key} names '{names[i]}' twice; a node serves once on each transport.");
                }
            }
        }
    }

    private static void ValidateBulk(List<string> failures, BulkOptions bulk)
    {
        if (bulk.Threshold < 1024)
        {
            failures.Add($"Plexus:Bulk:Threshold is {bulk.Threshold}; it must be at least 1024 bytes, such as 1048576 (1 MiB).");
        }

        if (bulk.MaxBytes < bulk.Threshold)
        {
            failures.Add($"Plexus:Bulk:MaxBytes is {bulk.MaxBytes}; it must be at least Plexus:Bulk:Threshold ({bulk.Threshold}), such as 1073741824 (1 GiB).");
        }

        if (bulk.HoldTimeout < TimeSpan.FromSeconds(1) || bulk.HoldTimeout > MaxWait)
        {
            failures.Add($"Plexus:Bulk:HoldTimeout is {bulk.HoldTimeout}; it must be from 1s to {MaxWait.TotalDays:0} days, such as 30s.");
        }

        if (bulk.PoolBytes < 0)
        {
            failures.Add($"Plexus:Bulk:PoolBytes is {bulk.PoolBytes}; it must be 0 (no reuse) or positive.");
        }

        if (bulk.InlineAfterFailure < TimeSpan.Zero)
        {
            failures.Add($"Plexus:Bulk:InlineAfterFailure is {bulk.InlineAfterFailure}; it must not be negative.");
        }
    }

    private static void RequireName(List<string> failures, string key, string? value, string example)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{key} is empty; set it to {example}.");
        }
    }
}
