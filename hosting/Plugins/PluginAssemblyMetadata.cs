using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Plexus.Hosting.Plugins;

/// <summary>
/// What the host needs to know about an assembly before loading it, read from its metadata tables only, so that a
/// corrupt or incompatible plugin is refused without ever entering a load context.
/// </summary>
internal sealed class PluginAssemblyMetadata
{
    private PluginAssemblyMetadata(string path, AssemblyName identity, string? pluginName, string? informationalVersion, IReadOnlyList<AssemblyName> references)
    {
        Path = path;
        Identity = identity;
        PluginName = pluginName;
        InformationalVersion = informationalVersion;
        References = references;
    }

    public string Path { get; }

    public AssemblyName Identity { get; }

    /// <summary>The name from <c>[assembly: PlexusPlugin("…")]</c>, or null when the assembly has none.</summary>
    public string? PluginName { get; }

    public string? InformationalVersion { get; }

    public IReadOnlyList<AssemblyName> References { get; }

    /// <summary>The version of the Plexus.Abstractions the assembly references, or null when it references none.</summary>
    public Version? AbstractionsVersion =>
        References.FirstOrDefault(r => string.Equals(r.Name, "Plexus.Abstractions", StringComparison.OrdinalIgnoreCase))?.Version;

    /// <summary>The plugin version to show: the informational version, else the assembly version.</summary>
    public string DisplayVersion => InformationalVersion ?? Identity.Version?.ToString() ?? "0.0.0";

    /// <summary>Reads an assembly's metadata.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="BadImageFormatException">The file is empty, not a PE image, or not a .NET assembly.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PluginAssemblyMetadata Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        if (stream.Length == 0)
        {
            throw new BadImageFormatException("the file is empty", path);
        }

        try
        {
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                throw new BadImageFormatException("it has no .NET metadata (a native library?)", path);
            }

            MetadataReader md = pe.GetMetadataReader();
            if (!md.IsAssembly)
            {
                throw new BadImageFormatException("it is a module, not an assembly", path);
            }

            AssemblyDefinition definition = md.GetAssemblyDefinition();
            string? pluginName = null;
            string? informational = null;
            foreach (CustomAttributeHandle handle in definition.GetCustomAttributes())
            {
                CustomAttribute attribute = md.GetCustomAttribute(handle);
                (string ns, string name) = AttributeTypeName(md, attribute);
                if (ns == "Plexus" && name == "PlexusPluginAttribute")
                {
                    pluginName = ReadSingleStringArgument(md, attribute);
                }
                else if (ns == "System.Reflection" && name == "AssemblyInformationalVersionAttribute")
                {
                    informational = ReadSingleStringArgument(md, attribute);
                }
            }

            var references = new List<AssemblyName>();
            foreach (AssemblyReferenceHandle handle in md.AssemblyReferences)
            {
                references.Add(md.GetAssemblyReference(handle).GetAssemblyName());
            }

            return new PluginAssemblyMetadata(path, definition.GetAssemblyName(), pluginName, informational, references);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NotSupportedException)
        {
            // System.Reflection.Metadata reports some malformed tables with these; they mean the same thing.
            throw new BadImageFormatException(ex.Message, path, ex);
        }
    }

    private static (string Namespace, string Name) AttributeTypeName(MetadataReader md, CustomAttribute attribute)
    {
        EntityHandle constructor = attribute.Constructor;
        if (constructor.Kind == HandleKind.MemberReference)
        {
            EntityHandle parent = md.GetMemberReference((MemberReferenceHandle)constructor).Parent;
            if (parent.Kind == HandleKind.TypeReference)
            {
                TypeReference type = md.GetTypeReference((TypeReferenceHandle)parent);
                return (md.GetString(type.Namespace), md.GetString(type.Name));
            }
        }
        else if (constructor.Kind == HandleKind.MethodDefinition)
        {
            TypeDefinition type = md.GetTypeDefinition(md.GetMethodDefinition((MethodDefinitionHandle)constructor).GetDeclaringType());
            return (md.GetString(type.Namespace), md.GetString(type.Name));
        }

        return (string.Empty, string.Empty);
    }

    private static string? ReadSingleStringArgument(MetadataReader md, CustomAttribute attribute)
    {
        BlobReader blob = md.GetBlobReader(attribute.Value);

        // A custom attribute blob starts with the prolog 0x0001, then the fixed arguments.
        if (blob.Length < 2 || blob.ReadUInt16() != 1)
        {
            return null;
        }

        return blob.ReadSerializedString();
    }
}
