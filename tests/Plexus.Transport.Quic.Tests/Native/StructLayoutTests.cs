using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Plexus.Transport.Quic.Native;

namespace Plexus.Transport.Quic.Tests;

/// <summary>
/// Checks the C# mirrors of the ngtcp2 structs and constants (plugins/quic/Native) against the installed C headers:
/// <c>Native/layouts.c</c> prints what gcc computes (sizes, offsets, values, types) and every C# struct named
/// <c>ngtcp2_*</c> and every <see cref="Ngtcp2Constants"/> field is compared with it by name. A wrong layout would
/// otherwise show up only as memory corruption inside libngtcp2.
/// </summary>
public sealed class StructLayoutTests
{
    private const string Packages = "gcc libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev";
    private const string PaddingPrefix = "_pad";

    // Structs of GnuTLS and of the C library the transport passes to native code, checked like ngtcp2's.
    private static readonly HashSet<string> SystemStructs = ["gnutls_datum_t", "iovec", "msghdr", "cmsghdr"];

    // Compiled and run once per test run; a failure (no gcc, no headers) fails every test with the same message.
    private static readonly Lazy<CLayouts> Layouts = new(
        () => CLayouts.Parse(NativeCompiler.CompileAndRun("Native/layouts.c", ["-lngtcp2"], Packages)));

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

        var fields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var cField in c.Fields)
        {
            if (!fields.TryGetValue(cField.Name, out var field))
            {
                errors.Add($"field {cField.Name} (C offset {cField.Offset}, size {cField.Size}) is missing");
                continue;
            }

            var offset = Marshal.OffsetOf(type, field.Name).ToInt32();
            var size = FieldSize(field);
            if (offset != cField.Offset || size != cField.Size)
            {
                errors.Add($"field {cField.Name}: C offset {cField.Offset} size {cField.Size}, C# offset {offset} size {size}");
            }
        }

        var cFieldNames = c.Fields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var field in fields.Values.Where(f => !cFieldNames.Contains(f.Name)))
        {
            if (!field.Name.StartsWith(PaddingPrefix, StringComparison.Ordinal))
            {
                errors.Add($"field {field.Name} is not a field of the C struct (padding fields must start with \"{PaddingPrefix}\")");
                continue;
            }

            // Padding must sit in a gap the C compiler leaves, never over a real field.
            var start = Marshal.OffsetOf(type, field.Name).ToInt32();
            var end = start + FieldSize(field);
            foreach (var cField in c.Fields.Where(f => start < f.Offset + f.Size && f.Offset < end))
            {
                errors.Add($"padding {field.Name} [{start}, {end}) overlaps field {cField.Name} [{cField.Offset}, {cField.Offset + cField.Size})");
            }
        }

        Assert.True(errors.Count == 0, $"{name} does not match the C header:\n  {string.Join("\n  ", errors)}");
    }

    [Fact]
    public void Every_CSharp_struct_named_ngtcp2_is_checked_by_the_C_program()
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
        Assert.True(missing.Count == 0, $"No C# struct in Plexus.Transport.Quic.Native for: {string.Join(", ", missing)}");
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
    public void Every_constant_the_C_program_prints_is_in_Ngtcp2Constants()
    {
        var names = CSharpConstants().Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var missing = Layouts.Value.Constants.Keys.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"Ngtcp2Constants lacks: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Linked_libngtcp2_is_the_version_the_headers_describe()
    {
        // The layouts above come from the headers; the plugin loads the shared library, so they must agree.
        Assert.Equal(Ngtcp2Constants.NGTCP2_VERSION_NUM, Layouts.Value.RuntimeVersionNum);
    }

    private static IEnumerable<Type> CSharpStructs() =>
        typeof(Ngtcp2Constants).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(Ngtcp2Constants).Namespace && t.IsValueType && !t.IsEnum && !t.IsNested
                && (t.Name.StartsWith("ngtcp2_", StringComparison.Ordinal) || SystemStructs.Contains(t.Name)))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static IEnumerable<FieldInfo> CSharpConstants() =>
        new[] { typeof(Ngtcp2Constants), typeof(GnuTls), typeof(LibC) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType != typeof(string))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

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

    private static string Describe(string? value, int size, bool signed) =>
        string.Create(CultureInfo.InvariantCulture, $"{value} ({size}-byte {(signed ? "signed" : "unsigned")})");

    private sealed record CField(string Name, int Offset, int Size);

    private sealed record CStruct(string Name, int Size, List<CField> Fields);

    private sealed record CConstant(string Name, string Value, int Size, bool Signed);

    /// <summary>The parsed output of layouts.c (line formats are described at the top of that file).</summary>
    private sealed class CLayouts
    {
        public Dictionary<string, CStruct> Structs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, CConstant> Constants { get; } = new(StringComparer.Ordinal);

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
                        layouts.Structs[structName].Fields.Add(new CField(name, Int(offset), Int(size)));
                        break;
                    case ["const", var name, var value, var size, var signed]:
                        layouts.Constants.Add(name, new CConstant(name, value, Int(size), signed == "1"));
                        break;
                    case ["runtime_version_num", var version]:
                        layouts.RuntimeVersionNum = Int(version);
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
