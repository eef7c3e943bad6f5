using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Compares C# mirrors of C structs and constants with what a C program compiled against the headers prints
/// (<c>struct</c>, <c>field</c> and <c>const</c> lines; see a project's Native/layouts.c). Shared by the native
/// bindings' layout tests (linked into each test project, as <see cref="NativeCompiler"/> is).
/// </summary>
internal static class CLayoutCheck
{
    public const string PaddingPrefix = "_pad";

    /// <summary>Every way <paramref name="type"/> differs from the C struct <paramref name="c"/>; empty when it matches.</summary>
    public static List<string> StructErrors(Type type, CStruct c)
    {
        var errors = new List<string>();
        if (!type.IsLayoutSequential && !type.IsExplicitLayout)
        {
            errors.Add("needs [StructLayout(LayoutKind.Sequential)] or LayoutKind.Explicit");
        }

        // Only a blittable struct has one layout shared by managed and native code; for it, the marshalling offsets
        // that Marshal.OffsetOf reports below are also the managed ones.
        errors.AddRange(NonBlittableFields(type, ""));

        var managedSize = RuntimeHelpers.SizeOf(type.TypeHandle);
        var marshalSize = Marshal.SizeOf(type);
        if (managedSize != c.Size || marshalSize != c.Size)
        {
            errors.Add($"size: C {c.Size}, C# {managedSize} (marshalled {marshalSize})");
        }

        // The C# fields by C name: the struct's own, and "u.m" for each member m of a field u whose type is nested in
        // the struct (the mirror of an anonymous C union or struct, which layouts.c prints member by member).
        var fields = CSharpFields(type);
        foreach (var cField in c.Fields)
        {
            if (!fields.TryGetValue(cField.Name, out var field))
            {
                errors.Add($"field {cField.Name} (C offset {cField.Offset}, size {cField.Size}) is missing");
                continue;
            }

            var offset = field.Offset;
            var size = FieldSize(field.Info);
            if (offset != cField.Offset || size != cField.Size)
            {
                errors.Add($"field {cField.Name}: C offset {cField.Offset} size {cField.Size}, C# offset {offset} size {size}");
            }

            // An integer must also agree in sign (a status byte read as byte turns every error into a large number).
            // A C pointer, array, struct or union has no sign; its C# mirror may be a pointer, nint or fixed buffer.
            var signed = IntegerSignedness(field.Info);
            if (cField.Signed is { } cSigned && signed != cSigned)
            {
                errors.Add($"field {cField.Name}: C {Signedness(cSigned)} integer, C# {field.Info.FieldType.Name} ({Signedness(signed)})");
            }
        }

        var cFieldNames = c.Fields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (fieldName, field) in fields.Where(f => !cFieldNames.Contains(f.Key)))
        {
            if (!field.Info.Name.StartsWith(PaddingPrefix, StringComparison.Ordinal))
            {
                errors.Add($"field {fieldName} is not a field of the C struct (padding fields must start with \"{PaddingPrefix}\")");
                continue;
            }

            // Padding must sit in a gap the C compiler leaves, never over a real field.
            var start = field.Offset;
            var end = start + FieldSize(field.Info);
            foreach (var cField in c.Fields.Where(f => start < f.Offset + f.Size && f.Offset < end && !f.Name.Contains('.', StringComparison.Ordinal)))
            {
                errors.Add($"padding {fieldName} [{start}, {end}) overlaps field {cField.Name} [{cField.Offset}, {cField.Offset + cField.Size})");
            }
        }

        return errors;
    }

    /// <summary>How the C# constant differs from the C one, or null when it matches (value, size and sign).</summary>
    public static string? ConstantError(string name, object value, CConstant c)
    {
        var type = value.GetType();
        var size = RuntimeHelpers.SizeOf(type.TypeHandle);
        var signed = type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(sbyte);
        var text = Convert.ToString(value, CultureInfo.InvariantCulture);
        return c.Value == text && c.Size == size && c.Signed == signed
            ? null
            : $"{name}: C {Describe(c.Value, c.Size, c.Signed)}, C# {Describe(text, size, signed)} ({type.Name})";
    }

    private static Dictionary<string, CSharpField> CSharpFields(Type type)
    {
        var fields = new Dictionary<string, CSharpField>(StringComparer.Ordinal);
        foreach (var field in InstanceFields(type))
        {
            var offset = Marshal.OffsetOf(type, field.Name).ToInt32();
            fields.Add(field.Name, new CSharpField(field, offset));
            if (field.FieldType.DeclaringType == type && field.GetCustomAttribute<FixedBufferAttribute>() is null)
            {
                foreach (var member in InstanceFields(field.FieldType))
                {
                    var memberOffset = offset + Marshal.OffsetOf(field.FieldType, member.Name).ToInt32();
                    fields.Add($"{field.Name}.{member.Name}", new CSharpField(member, memberOffset));
                }
            }
        }

        return fields;
    }

    private static FieldInfo[] InstanceFields(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);

    private static IEnumerable<string> NonBlittableFields(Type type, string path)
    {
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            var fieldType = field.GetCustomAttribute<FixedBufferAttribute>()?.ElementType ?? field.FieldType;
            if (fieldType.IsPointer || fieldType.IsFunctionPointer)
            {
                continue;
            }

            if (fieldType == typeof(bool) || fieldType == typeof(char) || !fieldType.IsValueType)
            {
                // bool and char marshal to a different size; references cannot be shared with C at all.
                yield return $"field {path}{field.Name} is {fieldType.Name}, which is not blittable";
            }
            else if (!fieldType.IsPrimitive && !fieldType.IsEnum)
            {
                foreach (var inner in NonBlittableFields(fieldType, $"{path}{field.Name}."))
                {
                    yield return inner;
                }
            }
        }
    }

    private static int FieldSize(FieldInfo field)
    {
        // A fixed buffer's field type is a compiler-generated struct; the attribute states the C array.
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer)
        {
            return buffer.Length * RuntimeHelpers.SizeOf(buffer.ElementType.TypeHandle);
        }

        var type = field.FieldType;
        return type.IsPointer || type.IsFunctionPointer ? IntPtr.Size : RuntimeHelpers.SizeOf(type.TypeHandle);
    }

    /// <summary>Whether a field is a signed (true) or unsigned (false) integer; null for anything else.</summary>
    private static bool? IntegerSignedness(FieldInfo field)
    {
        if (field.GetCustomAttribute<FixedBufferAttribute>() is not null)
        {
            return null;
        }

        var type = field.FieldType.IsEnum ? Enum.GetUnderlyingType(field.FieldType) : field.FieldType;
        if (type == typeof(sbyte) || type == typeof(short) || type == typeof(int) || type == typeof(long) || type == typeof(nint))
        {
            return true;
        }

        if (type == typeof(byte) || type == typeof(ushort) || type == typeof(uint) || type == typeof(ulong) || type == typeof(nuint))
        {
            return false;
        }

        return null;
    }

    private static string Signedness(bool? signed) => signed switch
    {
        true => "signed",
        false => "unsigned",
        null => "not an integer",
    };

    private static string Describe(string? value, int size, bool signed) =>
        string.Create(CultureInfo.InvariantCulture, $"{value} ({size}-byte {(signed ? "signed" : "unsigned")})");

    internal sealed record CSharpField(FieldInfo Info, int Offset);

    internal sealed record CField(string Name, int Offset, int Size, bool? Signed);

    internal sealed record CStruct(string Name, int Size, List<CField> Fields);

    internal sealed record CConstant(string Name, string Value, int Size, bool Signed);

    /// <summary>The parsed output of layouts.c (line formats are described at the top of that file).</summary>
    internal sealed class CLayouts
    {
        public Dictionary<string, CStruct> Structs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, CConstant> Constants { get; } = new(StringComparer.Ordinal);

        public (int Major, int Minor, int Release) RuntimeVersion { get; private set; } = (-1, -1, -1);

        public int RuntimeVersionNum { get; private set; } = -1;

        public static CLayouts Parse(string output)
        {
            var layouts = new CLayouts();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = line.Split(' ');
                switch (parts)
                {
                    case ["struct", var name, var size]:
                        layouts.Structs.Add(name, new CStruct(name, Int(size), []));
                        break;
                    case ["field", var structName, var name, var offset, var size]:
                        layouts.Structs[structName].Fields.Add(new CField(name, Int(offset), Int(size), null));
                        break;
                    case ["field", var structName, var name, var offset, var size, var signed]:
                        bool? isSigned = signed switch
                        {
                            "1" => true,
                            "0" => false,
                            "-" => null,
                            _ => throw new FormatException($"Unexpected signedness in a line from layouts.c: \"{line}\""),
                        };
                        layouts.Structs[structName].Fields.Add(new CField(name, Int(offset), Int(size), isSigned));
                        break;
                    case ["const", var name, var value, var size, var signed]:
                        layouts.Constants.Add(name, new CConstant(name, value, Int(size), signed == "1"));
                        break;
                    case ["runtime_version_num", var version]:
                        layouts.RuntimeVersionNum = Int(version);
                        break;
                    case ["runtime_version", var major, var minor, var release]:
                        layouts.RuntimeVersion = (Int(major), Int(minor), Int(release));
                        break;
                    default:
                        throw new FormatException($"Unexpected line from layouts.c: \"{line}\"");
                }
            }

            return layouts;
        }

        private static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
