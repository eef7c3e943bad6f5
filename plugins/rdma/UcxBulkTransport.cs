using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plexus.Transport.Rdma.Native;
using Plexus.Transport.Rdma.Workers;

namespace Plexus.Transport.Rdma;

/// <summary>
/// The <c>ucx</c> bulk transport: memory registered with UCX is read and written one-sided by peers that hold its
/// descriptor, over whatever UCX finds (InfiniBand or RoCE verbs where the machine has them; shared memory, cma or TCP
/// here). One worker thread per transport makes every UCX call.
/// </summary>
internal sealed class UcxBulkTransport : IBulkTransport, IDisposable
{
    /// <summary>The transport's name in descriptors and configuration.</summary>
    public const string TransportName = "ucx";

    private readonly UcxBulkOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<UcxWorker?> _worker;
    private string? _unavailableReason;

    public UcxBulkTransport(IOptions<UcxBulkOptions> options, ILogger<UcxBulkTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _worker = new Lazy<UcxWorker?>(StartWorker);
    }

    public string Name => TransportName;

    /// <summary>Whether UCX is loaded and found a usable transport; when not, <see cref="UnavailableReason"/> says why.</summary>
    public bool IsAvailable => _worker.Value is not null;

    /// <summary>UCX's version and the transports it was told to use (<c>TLS</c> of <c>Plexus:Bulk:Ucx:Settings</c>, else <c>UCX_TLS</c>, else all it finds).</summary>
    public string Details
    {
        get
        {
            var tls = _options.Settings.TryGetValue("TLS", out var configured) ? configured : Environment.GetEnvironmentVariable("UCX_TLS");
            _ = UcxNativeLibraries.Problem;
            return $"UCX {UcxNativeLibraries.Version}, transports {(string.IsNullOrWhiteSpace(tls) ? "all found" : tls)}{(_options.PeerErrorHandling ? ", peer error handling" : string.Empty)}";
        }
    }

    /// <summary>Why the transport is not available, or null.</summary>
    public string? UnavailableReason
    {
        get
        {
            _ = _worker.Value;
            return _unavailableReason;
        }
    }

    public async ValueTask<IBulkRegion> RegisterAsync(Memory<byte> memory, BulkAccess access, CancellationToken cancellationToken)
    {
        var worker = Worker();
        if (memory.IsEmpty)
        {
            throw new ArgumentException("An empty region cannot be registered.", nameof(memory));
        }

        var pin = memory.Pin();
        try
        {
            var address = AddressOf(pin);
            var length = (ulong)memory.Length;
            var (handle, key) = await worker.Post<(nint, byte[])>(w => Map(w, address, length, access)).WaitAsync(cancellationToken).ConfigureAwait(false);
            var token = new UcxDescriptor(access, UcxDescriptor.HostMemory, address, length, worker.Address, key).Encode();
            return new UcxRegion(worker, handle, pin, new BulkDescriptor(TransportName, memory.Length, token));
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Allocates <paramref name="length"/> bytes in memory UCX owns (<c>UCP_MEM_MAP_ALLOCATE</c>; shared memory here)
    /// and registers it: peers reach it without this side's worker taking part in each transfer, several times faster
    /// than user memory over shared memory. Fill <see cref="UcxAllocatedRegion.Memory"/>, hand out the descriptor.
    /// </summary>
    public async ValueTask<UcxAllocatedRegion> AllocateAsync(int length, BulkAccess access, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var worker = Worker();
        var (handle, address, key) = await worker.Post<(nint, ulong, byte[])>(w => Allocate(w, (ulong)length, access)).WaitAsync(cancellationToken).ConfigureAwait(false);
        var token = new UcxDescriptor(access, UcxDescriptor.HostMemory, address, (ulong)length, worker.Address, key).Encode();
        return new UcxAllocatedRegion(worker, handle, (nint)address, length, new BulkDescriptor(TransportName, length, token));
    }

    async ValueTask<IBulkBuffer> IBulkTransport.AllocateAsync(int length, BulkAccess access, CancellationToken cancellationToken) =>
        await AllocateAsync(length, access, cancellationToken).ConfigureAwait(false);

    public async ValueTask ReadAsync(BulkDescriptor remote, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var descriptor = UcxDescriptor.Decode(remote);
        if ((descriptor.Access & BulkAccess.Read) == 0)
        {
            throw new PlexusException(PlexusErrorCode.ProtocolError, "The bulk region's owner did not allow reading it.");
        }

        CheckLength(descriptor, destination.Length);
        if (destination.IsEmpty)
        {
            return;
        }

        var pin = destination.Pin();
        var transfer = StartRead(Worker(), descriptor, AddressOf(pin), destination.Length);
        await CompleteAsync(transfer, pin, "read", cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteAsync(BulkDescriptor remote, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        var descriptor = UcxDescriptor.Decode(remote);
        if ((descriptor.Access & BulkAccess.Write) == 0)
        {
            throw new PlexusException(PlexusErrorCode.ProtocolError, "The bulk region's owner did not allow writing it.");
        }

        CheckLength(descriptor, source.Length);
        if (source.IsEmpty)
        {
            return;
        }

        var pin = source.Pin();
        var flushed = StartWrite(Worker(), descriptor, AddressOf(pin), source.Length);
        await CompleteAsync(flushed, pin, "write", cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_worker.IsValueCreated)
        {
            _worker.Value?.Dispose();
        }
    }

    private static unsafe ulong AddressOf(MemoryHandle pin) => (ulong)(nint)pin.Pointer;

    private static Task StartRead(UcxWorker worker, UcxDescriptor descriptor, ulong local, int length)
    {
        var rkey = (nint)0;
        return worker.StartRequest(
            w => Get(w, descriptor, local, length, out rkey),
            "The bulk read (ucp_get_nbx)",
            _ => DestroyKey(ref rkey));
    }

    private static unsafe nint Get(UcxWorker worker, UcxDescriptor descriptor, ulong local, int length, out nint rkey)
    {
        var endpoint = Endpoint(worker, descriptor, out rkey);

        // UCX reads the parameters unconditionally: an empty set, not a null pointer.
        ucp_request_param_t parameters = default;
        return Ucp.ucp_get_nbx(endpoint, (void*)local, (nuint)length, descriptor.Address, rkey, &parameters);
    }

    private static unsafe nint Put(UcxWorker worker, UcxDescriptor descriptor, ulong local, int length, out nint endpoint, out nint rkey)
    {
        endpoint = Endpoint(worker, descriptor, out rkey);
        ucp_request_param_t parameters = default;
        return Ucp.ucp_put_nbx(endpoint, (void*)local, (nuint)length, descriptor.Address, rkey, &parameters);
    }

    private static unsafe nint Flush(nint endpoint)
    {
        ucp_request_param_t parameters = default;
        return Ucp.ucp_ep_flush_nbx(endpoint, &parameters);
    }

    private static Task StartWrite(UcxWorker worker, UcxDescriptor descriptor, ulong local, int length)
    {
        var rkey = (nint)0;
        var endpoint = (nint)0;
        var put = worker.StartRequest(w => Put(w, descriptor, local, length, out endpoint, out rkey), "The bulk write (ucp_put_nbx)");

        // A put completes locally; the flush completes once the bytes are in the owner's memory.
        return put.ContinueWith(
            done => done.IsCompletedSuccessfully
                ? worker.StartRequest(_ => Flush(endpoint), "The bulk write's flush (ucp_ep_flush_nbx)", _ => DestroyKey(ref rkey))
                : worker.Post(_ => { DestroyKey(ref rkey); return 0; }).ContinueWith(_ => done, TaskScheduler.Default).Unwrap(),
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    private static unsafe (nint Handle, ulong Address, byte[] Key) Allocate(UcxWorker worker, ulong length, BulkAccess access)
    {
        ucp_mem_map_params_t parameters = default;
        parameters.field_mask = UcpConstants.UCP_MEM_MAP_PARAM_FIELD_LENGTH | UcpConstants.UCP_MEM_MAP_PARAM_FIELD_FLAGS | UcpConstants.UCP_MEM_MAP_PARAM_FIELD_PROT;
        parameters.length = (nuint)length;
        parameters.flags = UcpConstants.UCP_MEM_MAP_ALLOCATE;
        parameters.prot = Protection(access);
        nint handle;
        var rv = Ucp.ucp_mem_map(worker.Context, &parameters, &handle);
        if (rv != UcpConstants.UCS_OK)
        {
            throw new UcxException($"UCX could not allocate {length} bytes of registered memory (ucp_mem_map): {Ucp.StatusText(rv)}.", rv);
        }

        worker.Mapped(handle);
        ucp_mem_attr_t attributes = default;
        attributes.field_mask = UcpConstants.UCP_MEM_ATTR_FIELD_ADDRESS | UcpConstants.UCP_MEM_ATTR_FIELD_LENGTH;
        rv = Ucp.ucp_mem_query(handle, &attributes);
        if (rv != UcpConstants.UCS_OK)
        {
            worker.Unmap(handle);
            throw new UcxException($"The memory UCX allocated could not be queried (ucp_mem_query): {Ucp.StatusText(rv)}.", rv);
        }

        return (handle, (ulong)attributes.address, Pack(worker, handle));
    }

    private static uint Protection(BulkAccess access) => (uint)(UcpConstants.UCP_MEM_MAP_PROT_LOCAL_READ | UcpConstants.UCP_MEM_MAP_PROT_LOCAL_WRITE
        | ((access & BulkAccess.Read) != 0 ? UcpConstants.UCP_MEM_MAP_PROT_REMOTE_READ : 0)
        | ((access & BulkAccess.Write) != 0 ? UcpConstants.UCP_MEM_MAP_PROT_REMOTE_WRITE : 0));

    private static unsafe byte[] Pack(UcxWorker worker, nint handle)
    {
        nint packed;
        nuint size;
        var rv = Ucp.ucp_rkey_pack(worker.Context, handle, &packed, &size);
        if (rv != UcpConstants.UCS_OK)
        {
            worker.Unmap(handle);
            throw new UcxException($"The region's remote key could not be packed (ucp_rkey_pack): {Ucp.StatusText(rv)}.", rv);
        }

        var key = new ReadOnlySpan<byte>((void*)packed, (int)size).ToArray();
        Ucp.ucp_rkey_buffer_release(packed);
        return key;
    }

    private static unsafe (nint Handle, byte[] Key) Map(UcxWorker worker, ulong address, ulong length, BulkAccess access)
    {
        ucp_mem_map_params_t parameters = default;
        parameters.field_mask = UcpConstants.UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UcpConstants.UCP_MEM_MAP_PARAM_FIELD_LENGTH | UcpConstants.UCP_MEM_MAP_PARAM_FIELD_PROT;
        parameters.address = (void*)address;
        parameters.length = (nuint)length;
        parameters.prot = (uint)(UcpConstants.UCP_MEM_MAP_PROT_LOCAL_READ | UcpConstants.UCP_MEM_MAP_PROT_LOCAL_WRITE
            | ((access & BulkAccess.Read) != 0 ? UcpConstants.UCP_MEM_MAP_PROT_REMOTE_READ : 0)
            | ((access & BulkAccess.Write) != 0 ? UcpConstants.UCP_MEM_MAP_PROT_REMOTE_WRITE : 0));
        nint handle;
        var rv = Ucp.ucp_mem_map(worker.Context, &parameters, &handle);
        if (rv != UcpConstants.UCS_OK)
        {
            throw new UcxException($"The memory could not be registered with UCX (ucp_mem_map): {Ucp.StatusText(rv)}.", rv);
        }

        nint packed;
        nuint size;
        rv = Ucp.ucp_rkey_pack(worker.Context, handle, &packed, &size);
        if (rv != UcpConstants.UCS_OK)
        {
            Ucp.ucp_mem_unmap(worker.Context, handle);
            throw new UcxException($"The region's remote key could not be packed (ucp_rkey_pack): {Ucp.StatusText(rv)}.", rv);
        }

        var key = new ReadOnlySpan<byte>((void*)packed, (int)size).ToArray();
        Ucp.ucp_rkey_buffer_release(packed);
        worker.Mapped(handle);
        return (handle, key);
    }

    private static nint Endpoint(UcxWorker worker, UcxDescriptor descriptor, out nint rkey)
    {
        var endpoint = worker.Endpoint(descriptor.WorkerAddress);
        rkey = worker.RemoteKey(endpoint, descriptor.RemoteKey);
        return endpoint;
    }

    // The key belongs to the worker's cache (UcxWorker.RemoteKey), which destroys it; the transfer only forgets it.
    private static void DestroyKey(ref nint rkey) => rkey = 0;

    private static void CheckLength(UcxDescriptor descriptor, int length)
    {
        if ((ulong)length > descriptor.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"The transfer of {length} bytes is longer than the bulk region ({descriptor.Length} bytes).");
        }
    }

    private async Task CompleteAsync(Task transfer, MemoryHandle pin, string what, CancellationToken cancellationToken)
    {
        try
        {
            await transfer.WaitAsync(_options.TransferTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // UCX may still write into the memory: it stays pinned until the operation ends.
            _ = transfer.ContinueWith(_ => pin.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            throw new PlexusException(PlexusErrorCode.Timeout, $"The bulk {what} did not complete within {_options.TransferTimeout.TotalSeconds:0.#} s; the peer that owns the region may be gone.");
        }
        catch (OperationCanceledException)
        {
            _ = transfer.ContinueWith(_ => pin.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            throw;
        }
        catch (UcxException failed)
        {
            pin.Dispose();
            throw PlexusException.Unavailable($"The bulk {what} failed: {failed.Message} The peer that owns the region may be gone.", failed);
        }

        pin.Dispose();
    }

    private UcxWorker Worker() => _worker.Value ?? throw PlexusException.Unavailable($"The UCX bulk transport is not available: {_unavailableReason}");

    private UcxWorker? StartWorker()
    {
        if (UcxNativeLibraries.Problem is { } problem)
        {
            _unavailableReason = problem;
            UcxLog.Unavailable(_logger, problem);
            return null;
        }

        try
        {
            return UcxWorker.Start(_options.Settings, _logger, peerErrorHandling: _options.PeerErrorHandling);
        }
        catch (UcxException failed)
        {
            _unavailableReason = $"{failed.Message} Check the UCX settings under {UcxBulkOptions.SectionName}:Settings (TLS names the UCX transports to use; `ucx_info -d` lists this machine's).";
            UcxLog.Unavailable(_logger, _unavailableReason);
            return null;
        }
    }
}
