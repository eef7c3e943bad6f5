using Microsoft.Extensions.Options;

namespace Plexus.Host.Status;

/// <summary>Checks <c>Plexus:Status:Url</c> at start.</summary>
internal sealed class StatusOptionsValidator : IValidateOptions<StatusOptions>
{
    public ValidateOptionsResult Validate(string? name, StatusOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
        {
            return ValidateOptionsResult.Fail($"Plexus:Status:Url is '{options.Url}'; write http://<address>:<port>, such as http://127.0.0.1:9480 (port 0 picks a free one).");
        }

        return ValidateOptionsResult.Success;
    }
}
