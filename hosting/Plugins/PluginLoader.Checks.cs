using System.Reflection;

namespace Plexus.Hosting.Plugins;

/// <summary>Checks made from a plugin's metadata before it loads: main assembly, abstractions version, dependencies.</summary>
internal sealed partial class PluginLoader
{
    private static (PluginAssemblyMetadata? Main, string? Cause, string? Fix) FindMainAssembly(string folder)
    {
        string[] dlls = Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal).ToArray();
        if (dlls.Length == 0)
        {
            return (null, "no plugin assembly: the folder holds no *.dll", "put the plugin's build or publish output in the folder, or remove the folder");
        }

        // The SDK writes a .deps.json only for the project that was built, which is the plugin itself.
        string[] withManifest = dlls.Where(d => File.Exists(Path.ChangeExtension(d, ".deps.json"))).ToArray();
        string[] candidates = withManifest.Length > 0 ? withManifest : dlls;

        var marked = new List<PluginAssemblyMetadata>();
        var readable = new List<PluginAssemblyMetadata>();
        (string File, string Reason)? unreadable = null;
        foreach (string dll in candidates)
        {
            try
            {
                PluginAssemblyMetadata md = PluginAssemblyMetadata.Read(dll);
                readable.Add(md);
                if (md.PluginName is not null)
                {
                    marked.Add(md);
                }
            }
            catch (BadImageFormatException ex)
            {
                unreadable ??= (Path.GetFileName(dll), ex.Message);
            }
        }

        if (withManifest.Length == 1)
        {
            return readable.Count == 1
                ? (readable[0], null, null)
                : (null, $"{unreadable!.Value.File} is not a valid .NET assembly ({unreadable.Value.Reason})", PluginFailures.RebuildFix);
        }

        if (marked.Count == 1)
        {
            return (marked[0], null, null);
        }

        if (marked.Count > 1)
        {
            return (null, $"several assemblies are marked [assembly: PlexusPlugin] ({string.Join(", ", marked.Select(m => Path.GetFileName(m.Path)))})", "keep one plugin per folder");
        }

        if (unreadable is { } bad)
        {
            return (null, $"{bad.File} is not a valid .NET assembly ({bad.Reason})", PluginFailures.RebuildFix);
        }

        return withManifest.Length > 1
            ? (null, $"several assemblies have a .deps.json ({string.Join(", ", withManifest.Select(Path.GetFileName))}) and none is marked [assembly: PlexusPlugin]", "keep one plugin per folder, or mark its main assembly with [assembly: PlexusPlugin(\"name\")]")
            : (null, "no plugin assembly: no *.dll has a matching *.deps.json and none is marked [assembly: PlexusPlugin]", "put the plugin's build or publish output (with its .deps.json) in the folder, or remove the folder");
    }

    private static (string Cause, string Fix)? CheckAbstractions(PluginAssemblyMetadata main)
    {
        Version hostVersion = PlexusAbstractions.Version;
        string hostText = PluginFailures.FormatVersion(hostVersion);
        if (main.AbstractionsVersion is not { } built)
        {
            return ("its main assembly does not reference Plexus.Abstractions, so it implements no Plexus contract", $"build the plugin against Plexus.Abstractions {hostText}, or remove the folder");
        }

        string builtText = PluginFailures.FormatVersion(built);
        if (built.Major != hostVersion.Major)
        {
            return (
                $"built against Plexus.Abstractions {builtText}, but this host has {hostText} (major versions differ)",
                $"rebuild the plugin against Plexus.Abstractions {hostVersion.Major}.x, or run a host built on {built.Major}.x");
        }

        // Patch (build) and revision never count: a patch release of the contracts adds no member, so a plugin built
        // against 2.7.7 runs on a 2.7.0 host. Only a newer minor can add members the plugin may call.
        if (built.Minor > hostVersion.Minor)
        {
            // Same major, newer minor: the plugin may call contract members this host lacks.
            return (
                $"built against Plexus.Abstractions {builtText}, newer than this host's {hostText}",
                $"update the host to Plexus.Abstractions {built.Major}.{built.Minor}.0 or later, or rebuild the plugin against {hostVersion.Major}.{hostVersion.Minor}.x");
        }

        return null;
    }

    /// <summary>
    /// Follows the main assembly's references through the plugin's own assemblies, from metadata only, so a missing
    /// or broken dependency is reported before anything loads.
    /// </summary>
    private (string Cause, string Fix)? CheckDependencies(PluginLoadContext context, PluginAssemblyMetadata main)
    {
        var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { main.Identity.Name ?? string.Empty };
        var pending = new Queue<PluginAssemblyMetadata>();
        pending.Enqueue(main);
        while (pending.TryDequeue(out PluginAssemblyMetadata? current))
        {
            foreach (AssemblyName reference in current.References)
            {
                string? name = reference.Name;
                if (name is null || !visited.Add(name))
                {
                    continue;
                }

                string wanted = $"{name} {PluginFailures.FormatVersion(reference.Version)}";
                if (context.ResolvesFromHost(reference))
                {
                    if (!host.Contains(name))
                    {
                        return ($"depends on {wanted}, which is not in its folder", PluginFailures.MissingDependencyFix);
                    }

                    // The abstractions were checked with their own, clearer message.
                    if (!string.Equals(name, "Plexus.Abstractions", StringComparison.OrdinalIgnoreCase)
                        && reference.Version is { } needed && host.VersionOf(name) is { } available && available < needed)
                    {
                        return (
                            $"depends on {wanted}, newer than the host's {PluginFailures.FormatVersion(available)}",
                            $"build the plugin against {name} {PluginFailures.FormatVersion(available)}, or update the host");
                    }

                    continue;
                }

                string path = context.FindPrivateAssembly(reference)!;
                PluginAssemblyMetadata dependency;
                try
                {
                    dependency = PluginAssemblyMetadata.Read(path);
                }
                catch (BadImageFormatException ex)
                {
                    return ($"its dependency {Path.GetFileName(path)} is not a valid .NET assembly ({ex.Message})", PluginFailures.RebuildFix);
                }

                if (reference.Version is { } version && dependency.Identity.Version is { } present && present < version)
                {
                    return ($"depends on {wanted}, but its folder has {PluginFailures.FormatVersion(present)}", PluginFailures.MissingDependencyFix);
                }

                pending.Enqueue(dependency);
            }
        }

        return null;
    }
}
