using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Plexus.Transport.Quic;

/// <summary>
/// Where a server with an ephemeral certificate publishes it for clients on the same machine, and where those clients
/// look: one PEM file per advertised address in a per-user folder (<c>~/.local/share/plexus/quic-ephemeral</c>, mode
/// 0700). A client without <c>Tls:CaPath</c> trusts such a certificate for exactly the address it was published for,
/// and for nothing else. Only this user (and root) can write there, so trusting what is there is trusting this user's
/// own processes; docs/ARCHITECTURE.md ("Ephemeral certificates") gives the reasoning.
/// </summary>
internal static class QuicEphemeralTrust
{
    private const string Marker = "# plexus-quic-ephemeral ";
    private const int MaxFileBytes = 64 * 1024;

    /// <summary>The per-user folder, or <see langword="null"/> when this process has no home to keep it in.</summary>
    public static string? DefaultDirectory()
    {
        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(data) ? null : Path.Combine(data, "plexus", "quic-ephemeral");
    }

    /// <summary>The file that holds the certificate published for <paramref name="address"/>.</summary>
    public static string FileFor(string directory, Uri address)
    {
        var authority = address.Authority;
        var name = new StringBuilder(authority.Length + 4);
        foreach (var c in authority)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? char.ToLowerInvariant(c) : '_');
        }

        return Path.Combine(directory, name.Append(".pem").ToString());
    }

    /// <summary>Publishes <paramref name="certificatePem"/> for <paramref name="address"/>, replacing what was there.</summary>
    /// <returns>The file written, or <see langword="null"/> with <paramref name="problem"/> saying why not.</returns>
    public static string? Publish(string directory, Uri address, string certificatePem, out string problem)
    {
        var path = FileFor(directory, address);
        var temporary = $"{path}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp";
        try
        {
            if (!PrepareDirectory(directory, out problem))
            {
                return null;
            }

            var text = $"{Marker}{Key(address)}\n# Written by process {Environment.ProcessId} on {Environment.MachineName} at {DateTimeOffset.UtcNow:O}; removed when it stops. Trusted by local Plexus QUIC clients for the address above only.\n{certificatePem}";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var file = new FileStream(temporary, options))
            {
                file.Write(Encoding.ASCII.GetBytes(text));
            }

            File.Move(temporary, path, overwrite: true);
            problem = string.Empty;
            return path;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            problem = $"{path} could not be written ({exception.Message})";
            return null;
        }
    }

    /// <summary>Removes the file for <paramref name="address"/> if it still holds <paramref name="certificatePem"/> (any certificate when null).</summary>
    public static void Withdraw(string directory, Uri address, string? certificatePem)
    {
        var path = FileFor(directory, address);
        try
        {
            if (File.Exists(path) && (certificatePem is null || File.ReadAllText(path).Contains(certificatePem, StringComparison.Ordinal)))
            {
                File.Delete(path);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stale file is only ever trusted for this address, and replaced by the next server there.
        }
    }

    /// <summary>The certificate published for exactly <paramref name="address"/>, if a usable one is there.</summary>
    /// <returns>The PEM certificate; <see langword="null"/> when there is none, or with <paramref name="problem"/> set when one was refused.</returns>
    public static string? Find(string directory, Uri address, out string? problem)
    {
        problem = null;
        var path = FileFor(directory, address);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return null;
            }

            if (!OperatingSystem.IsWindows() && (!IsPrivate(directory) || (info.UnixFileMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0))
            {
                problem = $"{path} or its folder can be written by other users; only files this user alone can write are trusted (chmod 700 the folder, 600 the file)";
                return null;
            }

            if (info.Length > MaxFileBytes)
            {
                problem = $"{path} is {info.Length} bytes, too large for one certificate";
                return null;
            }

            var text = File.ReadAllText(path);
            var firstLine = text.AsSpan(0, Math.Max(0, text.IndexOf('\n', StringComparison.Ordinal)));
            if (!firstLine.SequenceEqual(Marker + Key(address)))
            {
                problem = $"{path} was not published for {Key(address)}";
                return null;
            }

            var start = text.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
            if (start < 0 || !PemEncoding.TryFind(text.AsSpan(start), out var fields) || text.AsSpan(start)[fields.Label].ToString() != "CERTIFICATE")
            {
                problem = $"{path} holds no PEM certificate";
                return null;
            }

            return text.AsSpan(start)[fields.Location].ToString() + "\n";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            problem = $"{path} could not be read ({exception.Message})";
            return null;
        }
    }

    // The address as the marker line names it: scheme, host and port, lower case.
    private static string Key(Uri address) => address.GetLeftPart(UriPartial.Authority).ToLowerInvariant();

    private static bool PrepareDirectory(string directory, out string problem)
    {
        if (OperatingSystem.IsWindows())
        {
            // The per-user profile folder is private to the user already.
            Directory.CreateDirectory(directory);
            problem = string.Empty;
            return true;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var parent = Path.GetDirectoryName(directory);
        if (parent is not null && !Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent, Private);
        }

        Directory.CreateDirectory(directory, Private);
        if (!IsPrivate(directory))
        {
            problem = $"{directory} can be written by other users (chmod 700 it)";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    private static bool IsPrivate(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        var loose = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        var parent = Path.GetDirectoryName(directory);
        return (File.GetUnixFileMode(directory) & loose) == 0 && (parent is null || (File.GetUnixFileMode(parent) & loose) == 0);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Nothing to clean up, or nothing we may clean up.
        }
    }
}
