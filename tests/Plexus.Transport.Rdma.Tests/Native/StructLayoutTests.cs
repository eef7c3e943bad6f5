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
    // Compiled and run once per test run; a failure (no gcc, no headers) fails every test with the same message.
    private static readonly Lazy<CLayoutCheck.CLayouts> Layouts = new(
        () => CLayoutCheck.CLayouts.Parse(NativeCompiler.CompileAndRun("Native/layouts.c", ["-lucp", "-lucs"], Packages)));

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

        var errors = CLayoutCheck.StructErrors(type, c);
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

        var error = CLayoutCheck.ConstantError(name, CSharpConstants().Single(f => f.Name == name).GetRawConstantValue()!, c);
        Assert.True(error is null, error);
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
}
