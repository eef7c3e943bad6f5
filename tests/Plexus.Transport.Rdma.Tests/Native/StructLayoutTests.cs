using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Plexus.Transport.Rdma.Native;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>
/// Checks the C# mirrors of the UCX ucp structs and constants (plugins/rdma/Native) against the installed C headers:
/// <c>Native/layouts.c</c> prints what gcc computes (sizes, offsets, integer signedness, values, types) and every C#
/// struct named <c>ucp_*</c> or <c>ucs_*</c> and every <see cref="UcpConstants"/> field is compared with it by name.
/// A wrong layout would otherwise show up only as memory corruption inside libucp.
/// </summary>
public sealed class StructLayoutTests
{
    private const string Packages = "gcc libucx-dev";
    private const string PaddingPrefix = "_pad";

    // Compiled and run once per test run; a failure (no gcc, no headers) fails every test with the same message.
    private static readonly Lazy<CLayouts> Layouts = new(
        () => CLayouts.Parse(NativeCompiler.CompileAndRun("Native/layouts.c", ["-lucp", "-lucs"], Packages)));

    public static TheoryData<string> StructNames => [.. CSharpStructs().Select(t => t.Name)];

    public static TheoryData<string> ConstantNames => [.. CSharpConstants().Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(StructNames))]
    public void Struct_matches_the_C_layout(string name)
    {
        var type = CSharpStructs().Single(t => t.Name == name);
        Assert.True(
            Layouts.Value.Structs.TryGetValue(name, out var c),
            $"{name} is not printed by Native/layouts.c: add STRUCT({name}) and a FIELD line for each of its fields.");

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

        Assert.True(errors.Count == 0, $"{name} does not match the C header:\n  {string.Join("\n  ", errors)}");
    }

    [Fact]
    public void Every_CSharp_struct_named_ucp_or_ucs_is_checked_by_the_C_program()
    {
        Assert.NotEmpty(CSharpStructs());
        var uncovered = CSharpStructs().Select(t => t.Name).Where(n => !Layouts.Value.Structs.ContainsKey(n)).ToList();
        Assert.True(uncovered.Count == 0, $"Native/layouts.c prints no layout for: {string.Join(", ", uncovered)}");
    }

    [Fact]
    public void Every_struct_the_C_program_prints_has_a_CSharp_mirror()
    {
        var names = CSharpStructs().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var missing = Layouts.Value.Structs.Keys.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"No C# struct in Plexus.Transport.Rdma.Native for: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(ConstantNames))]
    public void Constant_matches_the_C_header(string name)
    {
        Assert.True(
            Layouts.Value.Constants.TryGetValue(name, out var c),
            $"{name} is not printed by Native/layouts.c: add CONST({name}).");

        var value = CSharpConstants().Single(f => f.Name == name).GetRawConstantValue()!;
        var type = value.GetType();
        var size = RuntimeHelpers.SizeOf(type.TypeHandle);
        var signed = type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(sbyte);
        var text = Convert.ToString(value, CultureInfo.InvariantCulture);
        Assert.True(
            c.Value == text && c.Size == size && c.Signed == signed,
            $"{name}: C {Describe(c.Value, c.Size, c.Signed)}, C# {Describe(text, size, signed)} ({type.Name})");
    }

    [Fact]
    public void Every_constant_the_C_program_prints_is_in_UcpConstants()
    {
        var names = CSharpConstants().Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var missing = Layouts.Value.Constants.Keys.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"UcpConstants lacks: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Linked_libucp_is_the_version_the_headers_describe()
    {
        // The layouts above come from the headers; the plugin loads the shared library, so they must agree. The plugin
        // also asks ucp_init_version for exactly this API version.
        var (major, minor, release) = Layouts.Value.RuntimeVersion;
        Assert.True(
            major == UcpConstants.UCP_API_MAJOR && minor == UcpConstants.UCP_API_MINOR,
            $"The linked libucp is {major}.{minor}.{release}; the headers and UcpConstants describe {UcpConstants.UCP_API_MAJOR}.{UcpConstants.UCP_API_MINOR}.");
    }

    private static IEnumerable<Type> CSharpStructs() =>
        typeof(UcpConstants).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(UcpConstants).Namespace && t.IsValueType && !t.IsEnum && !t.IsNested
                && (t.Name.StartsWith("ucp_", StringComparison.Ordinal) || t.Name.StartsWith("ucs_", StringComparison.Ordinal)))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static IEnumerable<FieldInfo> CSharpConstants() =>
        typeof(UcpConstants).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType != typeof(string))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

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

    private sealed record CSharpField(FieldInfo Info, int Offset);

    private sealed record CField(string Name, int Offset, int Size, bool? Signed);

    private sealed record CStruct(string Name, int Size, List<CField> Fields);

    private sealed record CConstant(string Name, string Value, int Size, bool Signed);

    /// <summary>The parsed output of layouts.c (line formats are described at the top of that file).</summary>
    private sealed class CLayouts
    {
        public Dictionary<string, CStruct> Structs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, CConstant> Constants { get; } = new(StringComparer.Ordinal);

        public (int Major, int Minor, int Release) RuntimeVersion { get; private set; } = (-1, -1, -1);

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
