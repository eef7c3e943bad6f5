using System.Text;

namespace Plexus.Host.Tests.Telemetry;

/// <summary>
/// Reads a protobuf message without its schema: walks the wire format (varints, fixed 32/64, length-delimited fields,
/// nested messages) and collects every length-delimited field that is printable UTF-8. Enough to check that an OTLP
/// export names the spans, metrics and resource attributes it should, and that it is well-formed protobuf at all.
/// </summary>
internal static class ProtobufText
{
    /// <summary>The strings in <paramref name="message"/>, nested messages included.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a protobuf message.</exception>
    public static List<string> Strings(ReadOnlySpan<byte> message)
    {
        var found = new List<string>();
        if (!TryWalk(message, found, depth: 0))
        {
            throw new InvalidDataException("The body is not a protobuf message.");
        }

        return found;
    }

    private static bool TryWalk(ReadOnlySpan<byte> data, List<string> found, int depth)
    {
        var position = 0;
        while (position < data.Length)
        {
            if (!TryVarint(data, ref position, out var tag) || tag >> 3 == 0)
            {
                return false;
            }

            switch ((int)(tag & 7))
            {
                case 0:
                    if (!TryVarint(data, ref position, out _))
                    {
                        return false;
                    }

                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                case 2:
                    if (!TryVarint(data, ref position, out var length) || length > (ulong)(data.Length - position))
                    {
                        return false;
                    }

                    var field = data.Slice(position, (int)length);
                    position += (int)length;
                    var nested = new List<string>();
                    if (depth < 32 && field.Length > 0 && TryWalk(field, nested, depth + 1))
                    {
                        found.AddRange(nested);
                    }

                    if (IsText(field))
                    {
                        found.Add(Encoding.UTF8.GetString(field));
                    }

                    break;
                default:
                    return false;
            }

            if (position > data.Length)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsText(ReadOnlySpan<byte> field)
    {
        if (field.IsEmpty)
        {
            return false;
        }

        foreach (var b in field)
        {
            if (b < 0x20 || b == 0x7f)
            {
                return false;
            }
        }

        return Encoding.UTF8.GetCharCount(field) > 0 && !Encoding.UTF8.GetString(field).Contains('\uFFFD', StringComparison.Ordinal);
    }
}
