using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Plexus.Bench;

/// <summary>
/// Turns the configuration binder's failure to convert a value into one line that names the key, the value and the
/// expected form, such as <c>Plexus:RequestPlane:DefaultTimeout is 'banana': 'banana' is not a duration; write …</c>.
/// </summary>
internal static partial class ConfigurationBindingError
{
    public static bool TryDescribe(InvalidOperationException error, [NotNullWhen(true)] out string? line)
    {
        line = null;
        FormatException? format = null;
        InvalidOperationException? binding = null;
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is FormatException f)
            {
                format = f;
                break;
            }

            if (e is InvalidOperationException i && BinderMessage().IsMatch(i.Message))
            {
                binding = i;
            }
        }

        if (format is null)
        {
            return false;
        }

        // The converter's own message says what was wrong and which forms are accepted; the binder's names the key.
        var match = binding is null ? null : BinderMessage().Match(binding.Message);
        line = match is { Success: true }
            ? $"{match.Groups["key"].Value} is '{match.Groups["value"].Value}': {format.Message}"
            : $"{error.Message} {format.Message}";
        return true;
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '[^']*'\.$", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
