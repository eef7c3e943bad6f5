using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Endpoints;

/// <summary>Checks <c>Plexus:Endpoints</c> at start; each failure names the key and what to write instead.</summary>
/// <param name="section">The <c>Plexus:Endpoints</c> section, to catch a list written as one value.</param>
internal sealed class EndpointSelectionOptionsValidator(IConfigurationSection section) : IValidateOptions<EndpointSelectionOptions>
{
    private const string PatternHelp = "write namespace/component/endpoint, where '*' in a segment stands for any characters (demo/echo/*, */echo/echo)";

    public ValidateOptionsResult Validate(string? name, EndpointSelectionOptions options)
    {
        var failures = new List<string>();
        foreach (var list in new[] { nameof(options.Include), nameof(options.Exclude) })
        {
            // A list given as one value (--Plexus:Endpoints:Include=a/b/c) binds to nothing, which would serve everything.
            if (!string.IsNullOrEmpty(section.GetSection(list).Value))
            {
                failures.Add($"{EndpointSelectionOptions.SectionName}:{list} is '{section.GetSection(list).Value}', a single value; it is a list: write {EndpointSelectionOptions.SectionName}:{list}:0={section.GetSection(list).Value}.");
            }
        }

        Check(failures, nameof(options.Include), options.Include);
        Check(failures, nameof(options.Exclude), options.Exclude);
        if (!string.IsNullOrEmpty(options.Namespace) && !EndpointAddress.TryParse($"{options.Namespace}/a/a", out _))
        {
            failures.Add($"{EndpointSelectionOptions.SectionName}:Namespace is '{options.Namespace}'; use 1 to 64 ASCII letters, digits, '-', '_' or '.'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string list, IList<string> patterns)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            if (!EndpointPattern.TryParse(patterns[i], out _))
            {
                failures.Add($"{EndpointSelectionOptions.SectionName}:{list}:{i} is '{patterns[i]}'; {PatternHelp}.");
            }
        }
    }
}
