using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Plexus.Router.Affinity;

/// <summary>
/// Checks <see cref="AffinityRouterOptions"/> when the host starts; each failure names its key. Unknown keys are
/// reported here, as failures, rather than by the binder, whose error would escape start-up as an unhandled exception.
/// </summary>
internal sealed class AffinityRouterOptionsValidator(IConfiguration? section = null) : IValidateOptions<AffinityRouterOptions>
{
    private static readonly string[] Known =
    [
        nameof(AffinityRouterOptions.LoadBound), nameof(AffinityRouterOptions.VirtualNodes), nameof(AffinityRouterOptions.OverlapWeight),
        nameof(AffinityRouterOptions.LoadWeight), nameof(AffinityRouterOptions.MaxRequestBlocks), nameof(AffinityRouterOptions.DropAfter),
    ];

    public ValidateOptionsResult Validate(string? name, AffinityRouterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (section is not null)
        {
            foreach (var child in section.GetChildren())
            {
                if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    errors.Add($"{AffinityRouterOptions.SectionName}:{child.Key} is not a setting of the affinity router; the settings are {string.Join(", ", Known)}.");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
