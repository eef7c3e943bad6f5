using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plexus.Hosting.Discovery;

/// <summary>
/// Discovery for several processes on one machine through a shared directory (see docs/discovery.md for the layout).
/// Each instance is one JSON file written atomically (temporary file, then rename in the same directory), carrying
/// its own <c>expiresAt</c>. Readers ignore files past their expiry, so a crashed process's instances vanish after
/// their time to live, and delete such files once they are well past it. Watchers poll and diff; polling alone is
/// correct, and a <see cref="FileSystemWatcher"/> is deliberately not used: on Linux each one costs an inotify
/// instance (128 per user by default, shared with every other process), and on network or container-mounted
/// directories it may deliver nothing, while a 250 ms poll of a few small files is cheap.
/// </summary>
internal sealed class FileDiscoveryProvider : IDiscoveryProvider
{
    // Temporary files older than this are leftovers of a writer that died between write and rename.
    private static readonly TimeSpan StaleTempFileAge = TimeSpan.FromMinutes(1);

    // Readers ignore an expired file at once but delete it only this long after, so an owner renewing right at
    // its expiry never has a fresh file deleted from under it.
    private static readonly TimeSpan MinExpiredFileGrace = TimeSpan.FromSeconds(2);

    private readonly ILogger<FileDiscoveryProvider> _logger;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _expiredFileGrace;

    // Files already warned about, with what made them bad, so a corrupt file is reported once, not every poll.
    private readonly ConcurrentDictionary<string, string> _warned = new(StringComparer.Ordinal);

    public FileDiscoveryProvider(IOptions<FileDiscoveryOptions> options, TimeProvider timeProvider, ILogger<FileDiscoveryProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var value = options.Value;
        RootDirectory = Path.GetFullPath(value.Directory);
        _pollInterval = value.PollInterval;
        _expiredFileGrace = MinExpiredFileGrace > 4 * value.PollInterval ? MinExpiredFileGrace : 4 * value.PollInterval;
        TimeProvider = timeProvider;
        _logger = logger;
    }

    public string Name => "file";

    internal string RootDirectory { get; }

    internal TimeProvider TimeProvider { get; }

    public ValueTask<IDiscoveryLease> RegisterAsync(Instance instance, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();

        var path = DiscoveryFileLayout.InstanceFile(RootDirectory, instance.Endpoint, instance.Id);
        var metadata = new Dictionary<string, string>(instance.Metadata, StringComparer.Ordinal);
        var record = new DiscoveryFileRecord(
            instance with { Metadata = metadata },
            Guid.NewGuid().ToString("N"),
            timeToLive,
            TimeProvider.GetUtcNow() + timeToLive,
            Environment.ProcessId);

        // The last registration of an id wins (a restarted process reusing its id takes over at once); the earlier
        // lease finds out on its next renewal.
        if (ReadRecord(path) is { } existing && existing.ExpiresAt > TimeProvider.GetUtcNow())
        {
            FileDiscoveryLog.ReplacedLiveRegistration(_logger, instance.Endpoint.ToString(), instance.Id.ToString(), path, existing.ProcessId);
        }

        WriteAtomically(path, record.Serialize());
        return ValueTask.FromResult<IDiscoveryLease>(new FileDiscoveryLease(this, record, path));
    }

    public async IAsyncEnumerable<DiscoveryEvent> WatchAsync(
        EndpointAddress endpoint,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            yield break;
        }

        var known = Scan(endpoint);
        foreach (var instance in known.Values.OrderBy(i => i.Id.Value))
        {
            yield return new DiscoveryEvent(DiscoveryEventKind.Added, instance);
        }

        while (await DelayAsync(cancellationToken))
        {
            var current = Scan(endpoint);
            foreach (var change in Diff(known, current))
            {
                yield return change;
            }

            known = current;
        }
    }

    public ValueTask<IReadOnlyList<Instance>> ListAsync(EndpointAddress? endpoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IEnumerable<Instance> result = endpoint is { } one
            ? Scan(one).Values
            : EnumerateEndpoints().SelectMany(e => Scan(e).Values);
        return ValueTask.FromResult<IReadOnlyList<Instance>>(
            [.. result.OrderBy(i => i.Endpoint.ToString(), StringComparer.Ordinal).ThenBy(i => i.Id.Value)]);
    }

    /// <summary>Writes a whole file or nothing: readers see the old content or the new, never part of it.</summary>
    internal void WriteAtomically(string path, byte[] content)
    {
        var directory = Path.GetDirectoryName(path)!;
        for (var attempt = 1; ; attempt++)
        {
            var temp = DiscoveryFileLayout.TempFileFor(path);
            try
            {
                Directory.CreateDirectory(directory);

                // No fsync: a lease only matters while its processes run, and rename alone gives readers atomicity.
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(content);
                }

                File.Move(temp, path, overwrite: true);
                return;
            }
            catch (IOException) when (attempt < 3)
            {
                // A directory removed by hand or a reader holding the file open (on Windows): try again shortly.
                TryDelete(temp);
                Thread.Sleep(10 * attempt);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                TryDelete(temp);
                throw PlexusException.Unavailable(
                    $"Could not write discovery file {path}: {ex.Message}. Check that {FileDiscoveryOptions.SectionName}:Directory ('{RootDirectory}') is writable.",
                    ex);
            }
        }
    }

    /// <summary>Reads and parses one instance file; null when it is missing or unreadable.</summary>
    internal DiscoveryFileRecord? ReadRecord(string path) => ReadRecord(path, out _);

    internal void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Someone else deleted or holds it; expiry takes care of it either way.
        }
    }

    private static IEnumerable<DiscoveryEvent> Diff(Dictionary<InstanceId, Instance> before, Dictionary<InstanceId, Instance> after)
    {
        foreach (var (id, old) in before.OrderBy(p => p.Key.Value))
        {
            if (!after.ContainsKey(id))
            {
                yield return new DiscoveryEvent(DiscoveryEventKind.Removed, old);
            }
        }

        foreach (var (id, now) in after.OrderBy(p => p.Key.Value))
        {
            if (!before.TryGetValue(id, out var old))
            {
                yield return new DiscoveryEvent(DiscoveryEventKind.Added, now);
            }
            else if (!old.Equals(now))
            {
                yield return new DiscoveryEvent(DiscoveryEventKind.Updated, now);
            }
        }
    }

    private DiscoveryFileRecord? ReadRecord(string path, out string? problem)
    {
        problem = null;
        byte[] content;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = stream.Length;
            if (length > DiscoveryFileRecord.MaxFileBytes)
            {
                problem = $"it is {length} bytes, over the limit of {DiscoveryFileRecord.MaxFileBytes}";
                return null;
            }

            content = new byte[length];
            stream.ReadExactly(content);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = ex.Message;
            return null;
        }

        var record = DiscoveryFileRecord.TryParse(content, out var parseProblem);
        if (record is null)
        {
            problem = parseProblem;
        }

        return record;
    }

    /// <summary>The live instances of one endpoint, ignoring (and in time deleting) expired and broken files.</summary>
    private Dictionary<InstanceId, Instance> Scan(EndpointAddress endpoint)
    {
        var result = new Dictionary<InstanceId, Instance>();
        var directory = DiscoveryFileLayout.EndpointDirectory(RootDirectory, endpoint);
        string[] files;
        try
        {
            files = Directory.GetFiles(directory);
        }
        catch (DirectoryNotFoundException)
        {
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (_warned.TryAdd(directory, ex.Message))
            {
                FileDiscoveryLog.CannotReadDirectory(_logger, directory, ex.Message);
            }

            return result;
        }

        // Readable again: a later failure deserves a new warning.
        _warned.TryRemove(directory, out _);
        var now = TimeProvider.GetUtcNow();
        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.'))
            {
                DeleteIfStaleTemp(path, name, now);
                continue;
            }

            if (!DiscoveryFileLayout.TryParseInstanceFileName(name, out var id))
            {
                continue;
            }

            var record = ReadRecord(path, out var problem);
            if (record is not null && (record.Instance.Endpoint != endpoint || record.Instance.Id != id))
            {
                problem = $"its content names {record.Instance.Endpoint} instance {record.Instance.Id}, not the one its path names";
                record = null;
            }

            if (record is null)
            {
                if (problem is not null)
                {
                    WarnOnce(path, problem);
                }

                continue;
            }

            _warned.TryRemove(path, out _);
            if (record.ExpiresAt <= now)
            {
                if (now - record.ExpiresAt > _expiredFileGrace)
                {
                    TryDelete(path);
                    FileDiscoveryLog.DeletedExpired(_logger, path, record.ExpiresAt);
                }

                continue;
            }

            result[id] = record.Instance;
        }

        ForgetVanishedWarnings(directory, files);
        return result;
    }

    private IEnumerable<EndpointAddress> EnumerateEndpoints()
    {
        IEnumerable<string> Subdirectories(string path)
        {
            try
            {
                return Directory.GetDirectories(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return [];
            }
        }

        foreach (var ns in Subdirectories(RootDirectory))
        {
            foreach (var component in Subdirectories(ns))
            {
                foreach (var ep in Subdirectories(component))
                {
                    if (DiscoveryFileLayout.TryDecodeSegment(Path.GetFileName(ns), out var n)
                        && DiscoveryFileLayout.TryDecodeSegment(Path.GetFileName(component), out var c)
                        && DiscoveryFileLayout.TryDecodeSegment(Path.GetFileName(ep), out var e)
                        && EndpointAddress.TryParse($"{n}/{c}/{e}", out var address))
                    {
                        yield return address;
                    }
                }
            }
        }
    }

    private void DeleteIfStaleTemp(string path, string name, DateTimeOffset now)
    {
        if (!name.EndsWith(DiscoveryFileLayout.TempSuffix, StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            if (now - File.GetLastWriteTimeUtc(path) > StaleTempFileAge)
            {
                TryDelete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already.
        }
    }

    private void WarnOnce(string path, string problem)
    {
        if (_warned.TryGetValue(path, out var previous) && previous == problem)
        {
            return;
        }

        _warned[path] = problem;
        FileDiscoveryLog.IgnoringCorruptFile(_logger, path, problem);
    }

    private void ForgetVanishedWarnings(string directory, string[] files)
    {
        if (_warned.IsEmpty)
        {
            return;
        }

        var present = new HashSet<string>(files, StringComparer.Ordinal);
        foreach (var path in _warned.Keys)
        {
            if (string.Equals(Path.GetDirectoryName(path), directory, StringComparison.Ordinal) && !present.Contains(path))
            {
                _warned.TryRemove(path, out _);
            }
        }
    }

    private async ValueTask<bool> DelayAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_pollInterval, TimeProvider, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
