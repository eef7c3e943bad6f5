using Microsoft.Extensions.Options;

namespace Plexus.Transport.Nats;

/// <summary>Checks <see cref="NatsTransportOptions"/> when the host starts; each failure names its key.</summary>
internal sealed class NatsTransportOptionsValidator : IValidateOptions<NatsTransportOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, NatsTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
