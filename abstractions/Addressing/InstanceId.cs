using System.Globalization;
using System.Security.Cryptography;

namespace Plexus;

/// <summary>A 64-bit identifier of one instance serving an endpoint, written as 16 hexadecimal digits.</summary>
/// <param name="Value">The numeric value.</param>
public readonly record struct InstanceId(ulong Value)
{
    /// <summary>Creates a random, non-zero instance id.</summary>
    /// <returns>A new id.</returns>
    public static InstanceId NewId()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong value;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            value = BitConverter.ToUInt64(bytes);
        }
        while (value == 0);
        return new InstanceId(value);
    }

    /// <summary>Parses 1 to 16 hexadecimal digits.</summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The id.</returns>
    /// <exception cref="FormatException">The text is not hexadecimal.</exception>
    public static InstanceId Parse(string text) =>
        TryParse(text, out var id)
            ? id
            : throw new FormatException($"'{text}' is not an instance id: write it as up to 16 hexadecimal digits, such as 00000000075bcd15.");

    /// <summary>Tries to parse 1 to 16 hexadecimal digits.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="id">The id when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is valid.</returns>
    public static bool TryParse(string? text, out InstanceId id)
    {
        id = default;
        if (string.IsNullOrEmpty(text) || text.Length > 16)
        {
            return false;
        }

        if (!ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        id = new InstanceId(value);
        return true;
    }

    /// <summary>Returns the id as 16 lowercase hexadecimal digits.</summary>
    /// <returns>The id as text.</returns>
    public override string ToString() => Value.ToString("x16", CultureInfo.InvariantCulture);
}
