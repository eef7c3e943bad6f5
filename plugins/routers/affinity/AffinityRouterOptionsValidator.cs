using Microsoft.Extensions.Options;

namespace Plexus.Router.Affinity;

/// <summary>Checks <see cref="AffinityRouterOptions"/> when the host starts; each failure names its key.</summary>
internal sealed class AffinityRouterOptionsValidator : IValidateOptions<AffinityRouterOptions>
{
    public ValidateOptionsResult Validate(string? name, AffinityRouterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
