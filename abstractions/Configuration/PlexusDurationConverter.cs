using System.ComponentModel;
using System.Globalization;

namespace Plexus;

/// <summary>
/// Converts configuration text to <see cref="TimeSpan"/> with <see cref="PlexusDuration"/>. The configuration binder
/// converts through <see cref="TypeDescriptor.GetConverter(Type)"/>, so once <see cref="Register"/> has run, every
/// <see cref="TimeSpan"/> setting bound in the process, in the host or in any plugin, accepts <c>10s</c> and refuses a
/// bare number or a negative value; the binder's error names the key.
/// </summary>
public sealed class PlexusDurationConverter : TimeSpanConverter
{
    private static int _registered;

    /// <summary>Makes this the converter of <see cref="TimeSpan"/> for the whole process. Calling it again does nothing.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(PlexusDurationConverter)));
        }
    }

    /// <inheritdoc />
    /// <exception cref="FormatException">The text is not a duration; the message quotes it and names the accepted forms.</exception>
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? PlexusDuration.Parse(text) : base.ConvertFrom(context, culture, value);
}
