using Microsoft.Extensions.Options;

namespace Plexus.Transport.Quic;

/// <summary>Checks <see cref="QuicTransportOptions"/> when the host starts; each failure names its key.</summary>
internal sealed class QuicTransportOptionsValidator : IValidateOptions<QuicTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, QuicTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
