using System.Globalization;

namespace Plexus.Bench;

/// <summary>
/// The process's limit on open files, which every socket counts against: a connection in this process is two of them,
/// its client end and its server end.
/// </summary>
internal static class FileDescriptors
{
    /// <summary>Descriptors beyond the connections' for what else the run opens (listeners, the NATS client's, files).</summary>
    private const int Headroom = 256;

    /// <summary>The limit on open files (the soft limit, which .NET raises to the hard limit at start-up); null where it cannot be read.</summary>
    public static long? Limit()
    {
        const string Path = "/proc/self/limits";
        if (!File.Exists(Path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(Path))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }

        return null;
    }

    /// <summary>Descriptors this process has open now; null where they cannot be counted.</summary>
    public static int? Open() => Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : null;

    /// <summary>Fails before anything is opened when <paramref name="connections"/> connections would not fit under the limit.</summary>
    /// <exception cref="BenchFailedException">They would not; the message names the limit and the fix.</exception>
    public static void EnsureRoomFor(int connections)
    {
        if (Limit() is not { } limit)
        {
            return;
        }

        var needed = (Open() ?? 0) + (2L * connections) + Headroom;
        if (needed > limit)
        {
            throw new BenchFailedException(string.Create(
                CultureInfo.InvariantCulture,
                $"--connections {connections:N0} needs about {needed:N0} open files in this process (both ends of every connection, and what is open already), but its limit on open files (RLIMIT_NOFILE, ulimit -n) is {limit:N0}. Fix: start the bench from a shell with a higher limit (ulimit -n {needed}; above the hard limit, ulimit -Hn, only root can raise it, or set LimitNOFILE= in a systemd unit or nofile in /etc/security/limits.conf), or ask for fewer connections."));
        }
    }
}
