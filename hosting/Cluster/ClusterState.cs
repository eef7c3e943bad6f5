using System.Security.Cryptography;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// The seed's persisted state in <see cref="ClusterOptions.StatePath"/>: the CA certificate and key and a generated
/// token, each a file with permissions 0600 in a directory with 0700, so that a restarted seed keeps its cluster.
/// </summary>
internal sealed class ClusterState(string directory)
{
    private const string CaFile = "ca.pem";
    private const string KeyFile = "ca.key";
    private const string TokenFile = "token";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>The persisted CA, or null when there is none yet.</summary>
    /// <exception cref="CryptographicException">The files exist but do not hold a matching certificate and key.</exception>
    public ClusterAuthority? LoadAuthority()
    {
        var ca = Path.Combine(Directory, CaFile);
        var key = Path.Combine(Directory, KeyFile);
        return File.Exists(ca) && File.Exists(key) ? ClusterAuthority.Load(File.ReadAllText(ca), File.ReadAllText(key)) : null;
    }

    public void SaveAuthority(ClusterAuthority authority)
    {
        EnsureDirectory();
        WritePrivate(Path.Combine(Directory, KeyFile), authority.KeyPem);
        WritePrivate(Path.Combine(Directory, CaFile), authority.CertificatePem);
    }

    public ClusterToken? LoadToken()
    {
        var path = Path.Combine(Directory, TokenFile);
        if (!File.Exists(path))
        {
            return null;
        }

        return ClusterToken.TryParse(File.ReadAllText(path), out var token, out var problem)
            ? token
            : throw new InvalidDataException($"{path} {problem}");
    }

    public void SaveToken(ClusterToken token)
    {
        EnsureDirectory();
        WritePrivate(Path.Combine(Directory, TokenFile), token.ToHex());
    }

    private void EnsureDirectory()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Writes through a temporary file created 0600, so that the secret is never readable by others, even briefly.</summary>
    private static void WritePrivate(string path, string content)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
