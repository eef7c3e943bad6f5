using System.Reflection;
using System.Text.RegularExpressions;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// Builds the one-line failure reports: <c>Plugin 'name' (folder): cause. Fix: fix.</c> A line never wraps, so a
/// log reader or a script sees one failure per line.
/// </summary>
internal static partial class PluginFailures
{
    public const string MissingDependencyFix = "publish the plugin with its dependencies (dotnet publish, or build with EnableDynamicLoading) or remove the folder";

    public const string RebuildFix = "rebuild and republish the plugin, or remove the folder";

    public const string ConstructorFix = "correct what the message describes (the plugin's configuration or environment), or disable the plugin in Plexus:Plugins:Disabled";

    /// <summary>Formats one failure line.</summary>
    /// <param name="name">The plugin's name.</param>
    /// <param name="folder">The plugin's folder, when there is one.</param>
    /// <param name="cause">What went wrong.</param>
    /// <param name="fix">What the operator should do.</param>
    /// <returns>The line.</returns>
    public static string Line(string name, string? folder, string cause, string fix)
    {
        string where = folder is null ? string.Empty : $" ({folder})";
        return $"Plugin '{name}'{where}: {Clean(cause)}. Fix: {Clean(fix)}.";
    }

    /// <summary>Formats one failure line from an exception.</summary>
    /// <param name="plugin">The plugin.</param>
    /// <param name="exception">What was thrown while loading or activating it.</param>
    /// <param name="context">The plugin's load context, which remembers native libraries it could not find.</param>
    /// <param name="doing">What the host was doing, for exceptions that are the plugin's own, such as "constructor of X threw".</param>
    /// <returns>The line.</returns>
    public static string Line(PluginInfo plugin, Exception exception, PluginLoadContext? context, string doing)
    {
        (string cause, string fix) = Describe(exception, context, doing);
        return Line(plugin.Name, plugin.Folder, cause, fix);
    }

    /// <summary>Says what an exception means for a plugin and how to fix it.</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="context">The plugin's load context, if it has one.</param>
    /// <param name="doing">What the host was doing, such as "constructor of X threw".</param>
    /// <returns>The cause and the fix.</returns>
    public static (string Cause, string Fix) Describe(Exception exception, PluginLoadContext? context, string doing)
    {
        Exception ex = Unwrap(exception);
        switch (ex)
        {
            case ReflectionTypeLoadException typeLoad when typeLoad.LoaderExceptions.FirstOrDefault(e => e is not null) is { } first:
                return Describe(first, context, doing);

            case FileNotFoundException notFound when TryParseAssemblyName(notFound.FileName) is { } missing:
                return ($"depends on {missing.Name} {FormatVersion(missing.Version)}, which is not in its folder", MissingDependencyFix);

            case FileLoadException load:
                return ($"could not load {load.FileName ?? "a dependency"} ({load.Message})", "publish the plugin with the dependency versions it was built with, or remove the folder");

            case BadImageFormatException badImage:
                string file = badImage.FileName is null ? "an assembly" : Path.GetFileName(badImage.FileName);
                return ($"{file} is not a valid .NET assembly for this runtime ({badImage.Message})", RebuildFix);

            case DllNotFoundException dllNotFound:
                string library = QuotedName().Match(dllNotFound.Message) is { Success: true } match
                    ? match.Groups[1].Value
                    : context?.UnresolvedNativeLibraries.LastOrDefault() ?? "(unknown)";
                string rid = NativeLibraryProbe.RuntimeIdentifiers.Count > 1 ? NativeLibraryProbe.RuntimeIdentifiers[1] : NativeLibraryProbe.RuntimeIdentifiers[0];
                return (
                    $"native library '{library}' (or a library it needs) could not be loaded; looked in runtimes/{{{string.Join(',', NativeLibraryProbe.RuntimeIdentifiers)}}}/native/, the plugin folder and the system library path",
                    $"ship {NativeLibraryProbe.FileNames(library)[0]} in the plugin's runtimes/{rid}/native/ folder, or install it on this machine");

            case EntryPointNotFoundException entryPoint:
                return ($"a native library lacks a function the plugin calls ({entryPoint.Message})", "ship the native library version the plugin was built for");

            case TypeLoadException or MissingMemberException:
                return (
                    $"was built against other versions of its dependencies than the ones it runs with ({ex.GetType().Name}: {ex.Message})",
                    $"rebuild the plugin against Plexus.Abstractions {FormatVersion(PlexusAbstractions.Version)} and publish it with its dependencies");

            default:
                return ($"{doing} {ex.GetType().Name}: {ex.Message}", ConstructorFix);
        }
    }

    /// <summary>Shows a version without a trailing zero revision.</summary>
    /// <param name="version">The version.</param>
    /// <returns>Such as 1.0.0.</returns>
    public static string FormatVersion(Version? version) =>
        version is null ? "(no version)"
        : version.Revision > 0 ? version.ToString()
        : version.Build >= 0 ? version.ToString(3)
        : version.ToString(2);

    private static Exception Unwrap(Exception exception)
    {
        Exception ex = exception;
        while (true)
        {
            switch (ex)
            {
                case TargetInvocationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                case TypeInitializationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                case AggregateException aggregate when aggregate.InnerExceptions.Count == 1:
                    ex = aggregate.InnerExceptions[0];
                    continue;
                default:
                    return ex;
            }
        }
    }

    private static AssemblyName? TryParseAssemblyName(string? fileName)
    {
        // An assembly that failed to bind is reported by display name; a plain missing file is not a dependency.
        if (fileName is null || !fileName.Contains(", Version=", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return new AssemblyName(fileName);
        }
        catch (FileLoadException)
        {
            return null;
        }
    }

    private static string Clean(string text)
    {
        string oneLine = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return oneLine.TrimEnd('.', ' ');
    }

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex QuotedName();
}
