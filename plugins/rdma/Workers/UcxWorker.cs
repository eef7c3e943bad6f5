using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Plexus.Transport.Rdma.Native;

namespace Plexus.Transport.Rdma.Workers;

/// <summary>
/// A UCX context and one worker, owned by a dedicated thread that makes every <c>ucp_*</c> call for them. Other threads
/// post work (<see cref="Post{T}"/>) and wake the thread; non-blocking requests are
/// progressed by the thread and completed as tasks. The thread keeps progressing while it lives, because a one-sided
/// transfer into memory this side owns completes only while this side's worker makes progress.
/// </summary>
internal sealed unsafe partial class UcxWorker : IDisposable
{
    private readonly ConcurrentQueue<IUcxWork> _posted = new();
    private readonly List<PendingRequest> _pending = [];
    private readonly HashSet<nint> _mapped = [];
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);

    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(1);
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IReadOnlyDictionary<string, string> _configuration;
    private nint _context;
    private nint _worker;
    private volatile bool _stopping;

    private readonly bool _peerErrorHandling;

    private UcxWorker(IReadOnlyDictionary<string, string> configuration, bool peerErrorHandling, ILogger logger, string name)
    {
        _configuration = configuration;
        _peerErrorHandling = peerErrorHandling;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>This worker's UCX address, which peers create endpoints from.</summary>
    public byte[] Address { get; private set; } = [];

    /// <summary>The context, for calls the worker thread makes on behalf of regions.</summary>
    internal nint Context => _context;

    /// <summary>The worker handle, used on the worker thread only.</summary>
    internal nint Handle => _worker;

    /// <summary>Starts the thread, which creates the context and the worker with the given UCX settings (<c>TLS</c>, …).</summary>
    /// <exception cref="UcxException">UCX refused the settings or found no usable transport; the message says which.</exception>
    public static UcxWorker Start(IReadOnlyDictionary<string, string> configuration, ILogger logger, string name = "plexus-ucx-worker", bool peerErrorHandling = false)
    {
        var worker = new UcxWorker(configuration, peerErrorHandling, logger, name);
        worker._thread.Start();
        try
        {
            worker._started.Task.GetAwaiter().GetResult();
        }
        catch
        {
            worker._thread.Join(TimeSpan.FromSeconds(5));
            throw;
        }

        return worker;
    }

    /// <summary>Runs <paramref name="work"/> on the worker thread.</summary>
    public Task<T> Post<T>(Func<UcxWorker, T> work)
    {
        var item = new Work<T>(work);
        Enqueue(item);
        return item.Task;
    }

    /// <summary>Runs <paramref name="start"/> on the worker thread; it returns a non-blocking UCX request (or its immediate status), completed by the thread.</summary>
    public Task StartRequest(Func<UcxWorker, nint> start, string what, Action<UcxWorker>? cleanup = null)
    {
        var item = new RequestWork(start, what, cleanup);
        Enqueue(item);
        return item.Task;
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        Wake();
        _thread.Join(TimeSpan.FromSeconds(10));
    }

    /// <summary>Records memory mapped with <c>ucp_mem_map</c> (worker thread only).</summary>
    internal void Mapped(nint memory) => _mapped.Add(memory);

    /// <summary>Unmaps memory mapped earlier, once (worker thread only).</summary>
    internal void Unmap(nint memory)
    {
        if (_mapped.Remove(memory))
        {
            Ucp.ucp_mem_unmap(_context, memory);
        }
    }

    private void Enqueue(IUcxWork item)
    {
        if (_stopping)
        {
            item.Fail(new ObjectDisposedException(nameof(UcxWorker), "The UCX worker has stopped."));
            return;
        }

        _posted.Enqueue(item);
        Wake();
    }

    private void Wake() => _wake.Set();

    private void Run()
    {
        try
        {
            Create();
            _started.TrySetResult();
        }
        catch (Exception exception)
        {
            Destroy();
            _started.TrySetException(exception);
            return;
        }

        try
        {
            Loop();
        }
        catch (Exception exception)
        {
            UcxLog.WorkerFailed(_logger, exception);
        }
        finally
        {
            FailAll(new ObjectDisposedException(nameof(UcxWorker), "The UCX worker has stopped."));
            Destroy();
            _stopped.TrySetResult();
        }
    }

    private void Loop()
    {
        while (!_stopping)
        {
            var busy = false;
            while (_posted.TryDequeue(out var item))
            {
                busy = true;
                item.Run(this);
            }

            while (Ucp.ucp_worker_progress(_worker) != 0)
            {
                busy = true;
            }

            busy |= CompleteRequests();
            if (_pending.Count > 0)
            {
                // A transfer in flight completes inside progress calls (cma, shared memory), which no event
                // announces: keep progressing, letting other threads run in between.
                if (!busy)
                {
                    Thread.Yield();
                }
            }
            else if (!busy && _posted.IsEmpty)
            {
                WaitForEvents();
            }
        }
    }

    /// <summary>
    /// Sleeps until another thread posts work, or for a millisecond: without UCX's wakeup feature nothing announces
    /// the network, so an idle worker still progresses a thousand times a second, which is what lets a peer's transfer
    /// into this side's memory start within a millisecond; once it runs, progress keeps finding work and the thread
    /// does not sleep.
    /// </summary>
    private void WaitForEvents()
    {
        _wake.Wait(IdlePoll);
        _wake.Reset();
    }

    private bool CompleteRequests()
    {
        var any = false;
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            var request = _pending[i];
            var status = Ucp.ucp_request_check_status(request.Handle);
            if (status == UcpConstants.UCS_INPROGRESS)
            {
                continue;
            }

            any = true;
            _pending.RemoveAt(i);
            Ucp.ucp_request_free(request.Handle);
            request.Work.Cleanup(this);
            request.Work.Complete(status);
        }

        return any;
    }

    private void Create()
    {
        nint config;
        var rv = Ucp.ucp_config_read(null, null, &config);
        Check(rv, "ucp_config_read");
        try
        {
            foreach (var (name, value) in _configuration)
            {
                var n = Encoding.UTF8.GetBytes(name + "\0");
                var v = Encoding.UTF8.GetBytes(value + "\0");
                fixed (byte* np = n)
                fixed (byte* vp = v)
                {
                    rv = Ucp.ucp_config_modify(config, np, vp);
                }

                if (rv != UcpConstants.UCS_OK)
                {
                    throw new UcxException($"UCX refused the setting {name}={value}: {Ucp.StatusText(rv)}.", rv);
                }
            }

            ucp_params_t parameters = default;
            parameters.field_mask = UcpConstants.UCP_PARAM_FIELD_FEATURES;
            // No UCP_FEATURE_WAKEUP: asking for it leaves UCX only the transports that can raise events (tcp here),
            // an order of magnitude slower than shared memory; the worker polls instead (see WaitForEvents).
            parameters.features = UcpConstants.UCP_FEATURE_RMA;
            nint context;
            rv = Ucp.ucp_init_version(UcpConstants.UCP_API_MAJOR, UcpConstants.UCP_API_MINOR, &parameters, config, &context);
            Check(rv, "ucp_init");
            _context = context;
        }
        finally
        {
            Ucp.ucp_config_release(config);
        }

        ucp_worker_params_t workerParameters = default;
        workerParameters.field_mask = UcpConstants.UCP_WORKER_PARAM_FIELD_THREAD_MODE;
        workerParameters.thread_mode = UcpConstants.UCS_THREAD_MODE_SINGLE;
        nint worker;
        Check(Ucp.ucp_worker_create(_context, &workerParameters, &worker), "ucp_worker_create");
        _worker = worker;

        nint address;
        nuint length;
        Check(Ucp.ucp_worker_get_address(_worker, &address, &length), "ucp_worker_get_address");
        Address = new ReadOnlySpan<byte>((void*)address, (int)length).ToArray();
        Ucp.ucp_worker_release_address(_worker, address);
    }

    private void Destroy()
    {
        foreach (var request in _pending)
        {
            Ucp.ucp_request_cancel(_worker, request.Handle);
            Ucp.ucp_request_free(request.Handle);
        }

        _pending.Clear();
        DestroyEndpoints();

        // UCX refuses to clean up a context with memory still mapped (an assertion, a crash): regions not disposed
        // are unmapped here, and their own disposal later finds the worker gone.
        foreach (var memory in _mapped)
        {
            Ucp.ucp_mem_unmap(_context, memory);
        }

        _mapped.Clear();
        if (_worker != 0)
        {
            Ucp.ucp_worker_destroy(_worker);
            _worker = 0;
        }

        if (_context != 0)
        {
            Ucp.ucp_cleanup(_context);
            _context = 0;
        }
    }

    private void FailAll(Exception exception)
    {
        while (_posted.TryDequeue(out var item))
        {
            item.Fail(exception);
        }

        foreach (var request in _pending)
        {
            request.Work.Fail(exception);
        }
    }

    private static void Check(int status, string what)
    {
        if (status != UcpConstants.UCS_OK)
        {
            throw new UcxException($"{what} failed: {Ucp.StatusText(status)}.", status);
        }
    }

    private readonly record struct PendingRequest(nint Handle, RequestWork Work);
}
