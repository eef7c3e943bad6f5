using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Discovery;

namespace Plexus.Host.Tests.Discovery;

public sealed class FileDiscoveryProviderTests : DiscoveryProviderBehaviour
{
    private readonly TempDirectory _directory = new();
    private readonly ListLogger<FileDiscoveryProvider> _logger = new();
    private readonly FileDiscoveryProvider _provider;

    public FileDiscoveryProviderTests()
    {
        _provider = CreateProvider(_directory.Path, _logger);
    }

    protected override IDiscoveryProvider Provider => _provider;

    // Real time: long enough that a renewal every quarter of it survives a busy machine.
    protected override TimeSpan Ttl => TimeSpan.FromSeconds(2);

    protected override Task ElapseAsync(TimeSpan duration) => Task.Delay(duration);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    internal static FileDiscoveryProvider CreateProvider(string directory, ILogger<FileDiscoveryProvider> logger) =>
        new(
            Options.Create(new FileDiscoveryOptions { Directory = directory, PollInterval = TimeSpan.FromMilliseconds(50) }),
            TimeProvider.System,
            logger);

    private string InstancePath(EndpointAddress endpoint, ulong id) =>
        Path.Combine(_directory.Path, endpoint.Namespace, endpoint.Component, endpoint.Endpoint, new InstanceId(id) + ".json");

    [Fact]
    public void Name_is_file() => Assert.Equal("file", _provider.Name);

    [Fact]
    public async Task Instance_is_stored_as_json_at_the_documented_path()
    {
        var a = NewInstance(Workers, 0x75bcd15, "0.3");
        await RegisterAsync(a);

        var path = InstancePath(Workers, 0x75bcd15);
        Assert.EndsWith("plexus-test/workers/generate/00000000075bcd15.json", path.Replace('\\', '/'), StringComparison.Ordinal);
        Assert.True(File.Exists(path));
        var record = DiscoveryFileRecord.TryParse(await File.ReadAllBytesAsync(path), out var problem);
        Assert.True(record is not null, problem);
        Assert.Equal(a, record.Instance);
        Assert.InRange(record.ExpiresAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow + Ttl + TimeSpan.FromSeconds(1));
        Assert.Equal(Environment.ProcessId, record.ProcessId);
    }

    [Fact]
    public async Task Renewal_rewrites_the_expiry_in_the_file()
    {
        var lease = await RegisterAsync(NewInstance(Workers, 1));
        var path = InstancePath(Workers, 1);
        var before = DiscoveryFileRecord.TryParse(await File.ReadAllBytesAsync(path), out _)!.ExpiresAt;

        await Task.Delay(TimeSpan.FromMilliseconds(50));
        await lease.RenewAsync(CancellationToken.None);

        var after = DiscoveryFileRecord.TryParse(await File.ReadAllBytesAsync(path), out _)!.ExpiresAt;
        Assert.True(after > before, $"expiry {after:O} should be later than {before:O}");
    }

    [Fact]
    public async Task Dot_segments_are_escaped_and_stay_inside_the_directory()
    {
        var odd = new EndpointAddress("..", ".", ".hidden");
        var a = NewInstance(odd, 7);
        await RegisterAsync(a);

        var files = Directory.GetFiles(_directory.Path, "*.json", SearchOption.AllDirectories);
        var file = Assert.Single(files);
        Assert.StartsWith(_directory.Path, Path.GetFullPath(file), StringComparison.Ordinal);
        Assert.Equal([a], await ListAsync(odd));
        Assert.Equal([a], await ListAsync(null));
    }

    [Fact]
    public async Task Corrupt_and_half_written_files_are_ignored_with_one_warning_each()
    {
        var good = NewInstance(Workers, 1);
        await RegisterAsync(good);
        var garbage = InstancePath(Workers, 0xff);
        var truncated = InstancePath(Workers, 0xfe);
        var whole = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(InstancePath(Workers, 1)));
        await File.WriteAllTextAsync(garbage, "{ this is not json");
        await File.WriteAllTextAsync(truncated, whole[..(whole.Length / 2)]);

        var watch = Watch(Workers);
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, good), await watch.NextAsync());

        // Several polls later the watcher is still alive and reporting.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var late = NewInstance(Workers, 2);
        await RegisterAsync(late);
        Assert.Equal(new DiscoveryEvent(DiscoveryEventKind.Added, late), await watch.NextAsync());
        Assert.Equal([good, late], await ListAsync(Workers));

        var warnings = _logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Single(warnings, w => w.Contains(garbage, StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains(truncated, StringComparison.Ordinal));
        Assert.False(watch.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_reader_never_sees_a_partial_file()
    {
        // A lease long enough for 150 large writes on a busy machine: this test is about torn files, not expiry.
        var lease = await RegisterAsync(NewInstance(Workers, 1), TimeSpan.FromMinutes(2));
        var path = InstancePath(Workers, 1);
        const int valueLength = 200_000;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var value = new string((char)('a' + (i % 26)), valueLength);
                await lease.UpdateAsync(new Dictionary<string, string> { ["blob"] = value }, CancellationToken.None);
            }
        });

        var reads = 0;
        while (!writer.IsCompleted || reads == 0)
        {
            var bytes = await File.ReadAllBytesAsync(path);
            var record = DiscoveryFileRecord.TryParse(bytes, out var problem);
            Assert.True(record is not null, $"read {reads} saw a partial file: {problem}");
            if (record.Instance.Metadata.TryGetValue("blob", out var blob))
            {
                Assert.Equal(valueLength, blob.Length);
                Assert.All(blob, c => Assert.Equal(blob[0], c));
            }

            reads++;
        }

        await writer;
        Assert.True(reads > 1);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, ".*"));
    }

    [Fact]
    public async Task Renewing_or_updating_after_someone_else_removed_the_file_fails_with_Unavailable()
    {
        var lease = await RegisterAsync(NewInstance(Workers, 1));
        File.Delete(InstancePath(Workers, 1));

        var renew = await Assert.ThrowsAsync<PlexusException>(async () => await lease.RenewAsync(CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, renew.Code);
        Assert.Contains("removed", renew.Message, StringComparison.Ordinal);
        Assert.Contains("register the instance again", renew.Message, StringComparison.Ordinal);

        var update = await Assert.ThrowsAsync<PlexusException>(async () =>
            await lease.UpdateAsync(Instance.EmptyMetadata, CancellationToken.None));
        Assert.Equal(PlexusErrorCode.Unavailable, update.Code);
        Assert.False(File.Exists(InstancePath(Workers, 1)));
    }

    [Fact]
    public async Task Expired_files_are_ignored_at_once_and_deleted_by_readers_after_a_grace_period()
    {
        var registered = System.Diagnostics.Stopwatch.StartNew();
        await RegisterAsync(NewInstance(Workers, 1), TimeSpan.FromMilliseconds(200));
        var path = InstancePath(Workers, 1);

        await Task.Delay(TimeSpan.FromMilliseconds(400));
        Assert.Empty(await ListAsync(Workers));
        if (registered.Elapsed < TimeSpan.FromSeconds(2))
        {
            // Still within the grace period: ignored, not yet deleted.
            Assert.True(File.Exists(path));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (File.Exists(path) && DateTime.UtcNow < deadline)
        {
            Assert.Empty(await ListAsync(Workers));
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Stale_temporary_files_are_cleaned_up_and_fresh_ones_left_alone()
    {
        await RegisterAsync(NewInstance(Workers, 1));
        var directory = Path.GetDirectoryName(InstancePath(Workers, 1))!;
        var stale = Path.Combine(directory, ".0000000000000002.json.dead.tmp");
        var fresh = Path.Combine(directory, ".0000000000000003.json.busy.tmp");
        await File.WriteAllTextAsync(stale, "{");
        await File.WriteAllTextAsync(fresh, "{");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromMinutes(5));

        Assert.Single(await ListAsync(Workers));

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }
}
