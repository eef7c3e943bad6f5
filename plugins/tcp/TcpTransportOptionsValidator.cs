using Microsoft.Extensions.Options;

namespace Plexus.Transport.Tcp;

/// <summary>Checks <see cref="TcpTransportOptions"/> when the host starts; each failure names its key.</summary>
internal sealed class TcpTransportOptionsValidator : IValidateOptions<TcpTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, TcpTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
